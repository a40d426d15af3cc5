-- Lisa outbound booking requests (seed 002): the tables the frontend polls and the backend updates.
-- Apply with the Supabase CLI (`supabase db push`) or paste into the SQL editor. Safe to apply twice.
-- Reads: a signed-in user sees only their own requests and their events (row-level security).
-- Writes: only the service role (the Lisa backend with SUPABASE_SERVICE_KEY). If your frontend inserts the
-- request row with the user's own session, enable the optional insert policy at the end.

create table if not exists public.requests (
    id uuid primary key default gen_random_uuid(),
    user_id uuid not null references auth.users (id) on delete cascade,
    title text not null,
    description text not null default '',
    callback_number text,
    number_to_call text,
    preferred_time text not null default '',
    user_profile jsonb not null default '{}'::jsonb,
    language text not null default 'de' check (language in ('de', 'en')),
    status text not null default 'queued' check (
        status in ('queued', 'outside_business_hours', 'calling', 'in_progress',
                   'waiting_for_callback', 'booked', 'failed', 'canceled')
    ),
    summary text,
    appointment timestamptz,
    created_at timestamptz not null default now(),
    updated_at timestamptz not null default now()
);

create table if not exists public.events (
    id uuid primary key default gen_random_uuid(),
    request_id uuid not null references public.requests (id) on delete cascade,
    type text not null check (
        type in ('request_received', 'scheduled', 'call_started', 'call_connected', 'booking_in_progress',
                 'booking_confirmed', 'call_failed', 'call_completed', 'error')
    ),
    message text not null default '',
    created_at timestamptz not null default now()
);

create index if not exists requests_user_created_idx on public.requests (user_id, created_at desc);
create index if not exists requests_status_idx on public.requests (status);
create index if not exists events_request_created_idx on public.events (request_id, created_at);

-- updated_at follows every change, whoever makes it
create or replace function public.lisa_touch_updated_at() returns trigger
language plpgsql as $$
begin
    new.updated_at := now();
    return new;
end;
$$;
drop trigger if exists requests_touch_updated_at on public.requests;
create trigger requests_touch_updated_at before update on public.requests
    for each row execute function public.lisa_touch_updated_at();

-- row-level security
alter table public.requests enable row level security;
alter table public.events enable row level security;

drop policy if exists "requests: owner reads" on public.requests;
create policy "requests: owner reads" on public.requests
    for select to authenticated using (user_id = (select auth.uid()));

drop policy if exists "events: owner of the request reads" on public.events;
create policy "events: owner of the request reads" on public.events
    for select to authenticated using (
        exists (select 1 from public.requests r where r.id = events.request_id and r.user_id = (select auth.uid()))
    );

drop policy if exists "requests: service role writes" on public.requests;
create policy "requests: service role writes" on public.requests
    for all to service_role using (true) with check (true);
drop policy if exists "events: service role writes" on public.events;
create policy "events: service role writes" on public.events
    for all to service_role using (true) with check (true);

revoke all on public.requests, public.events from anon, authenticated;
grant select on public.requests, public.events to authenticated;
grant select, insert, update, delete on public.requests, public.events to service_role;

-- Optional: let a signed-in user create their own request row (status queued) from the frontend.
-- grant insert on public.requests to authenticated;
-- create policy "requests: owner creates" on public.requests
--     for insert to authenticated with check (user_id = (select auth.uid()) and status = 'queued');
