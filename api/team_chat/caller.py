"""Who calls the team chat: the account behind the bearer access token (ours or, with auth on, Supabase's)."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, HTTPException, Request, status

from api.auth import Principal, current_principal
from api.deps import TeamChatDep
from api.team_chat.store import User

SIGN_IN = "sign in first: send the accessToken of /auth/login or /auth/register as 'Authorization: Bearer …'"


async def signed_in(principal: Annotated[Principal, Depends(current_principal)], team: TeamChatDep) -> User:
    """FastAPI dependency: the caller's account (401 without a user token, also with auth off)."""
    if principal.user_id is None:
        raise HTTPException(
            status.HTTP_401_UNAUTHORIZED, detail=SIGN_IN, headers={"WWW-Authenticate": "Bearer"}
        )
    return await team.accounts.account(principal.user_id)


def client_of(request: Request) -> str | None:
    return request.client.host if request.client else None


Account = Annotated[User, Depends(signed_in)]
