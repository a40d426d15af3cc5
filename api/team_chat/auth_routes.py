"""Seed 004's account endpoints: ``/auth/register``, ``/auth/login`` (email + password, or phone + code),
``/auth/phone/code``, ``/auth/refresh``, ``/auth/logout``, ``/auth/me``, ``/auth/gmail/token``."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request

from api.deps import TeamChatDep
from api.edge.openapi_docs import responses
from api.team_chat.accounts import SignedIn
from api.team_chat.caller import Account, client_of
from api.team_chat.lifespan import TeamChatServices
from api.team_chat.models import (
    AuthOut,
    CodeSentOut,
    GmailTokenIn,
    LoginIn,
    MeOut,
    PhoneCodeIn,
    RefreshIn,
    RefreshOut,
    RegisterIn,
    SuccessOut,
    UserOut,
)

router = APIRouter(prefix="/auth", tags=["team chat: accounts (seed 004)"])
NO_TOKEN: dict[str, Any] = {
    "security": []
}  # OpenAPI: no bearer token; a 401 here is about the credentials in the body


def _signed_in(result: SignedIn, services: TeamChatServices) -> AuthOut:
    return AuthOut(
        user=UserOut.of(result.user),
        accessToken=result.tokens.access_token,
        refreshToken=result.tokens.refresh_token,
        expiresIn=services.settings.team_access_token_ttl_s,
    )


@router.post(
    "/register",
    openapi_extra=NO_TOKEN,
    response_model=AuthOut,
    status_code=201,
    summary="Make an account (email + password, optional name and phone) and sign in",
    responses=responses(422, 429, described={409: "an account with this email or phone exists"}),
)
async def register(body: RegisterIn, request: Request, services: TeamChatDep) -> AuthOut:
    result = await services.accounts.register(
        body.email, body.password, body.name, body.phone, client_of(request)
    )
    return _signed_in(result, services)


@router.post(
    "/login",
    openapi_extra=NO_TOKEN,
    response_model=AuthOut,
    summary="Sign in with email + password, or phone + the code of /auth/phone/code",
    responses=responses(422, 429, described={401: "wrong email or password, or wrong or expired code"}),
)
async def login(body: LoginIn, request: Request, services: TeamChatDep) -> AuthOut:
    if body.email is not None:
        result = await services.accounts.login_password(body.email, body.password or "", client_of(request))
    else:
        result = await services.accounts.login_code(body.phone or "", body.code or "", client_of(request))
    return _signed_in(result, services)


@router.post(
    "/phone/code",
    openapi_extra=NO_TOKEN,
    response_model=CodeSentOut,
    summary="Text a 6-digit sign-in code to a phone (E.164); the first sign-in of a number makes its account",
    responses=responses(422, 429, described={502: "the text message could not be sent"}),
)
async def phone_code(body: PhoneCodeIn, request: Request, services: TeamChatDep) -> CodeSentOut:
    ttl = await services.accounts.send_code(body.phone, client_of(request))
    return CodeSentOut(expiresIn=ttl)


@router.post(
    "/refresh",
    openapi_extra=NO_TOKEN,
    response_model=RefreshOut,
    summary="Trade a refresh token for a new access token and a new refresh token (the old one is used up)",
    responses=responses(422, described={401: "unknown, expired, revoked or replayed refresh token"}),
)
async def refresh(body: RefreshIn, services: TeamChatDep) -> RefreshOut:
    pair = await services.accounts.refresh(body.refreshToken)
    return RefreshOut(
        accessToken=pair.access_token,
        refreshToken=pair.refresh_token,
        expiresIn=services.settings.team_access_token_ttl_s,
    )


@router.post(
    "/logout",
    openapi_extra=NO_TOKEN,
    response_model=SuccessOut,
    summary="Revoke a refresh token and every token rotated from it (access tokens run out on their own)",
    responses=responses(422),
)
async def logout(body: RefreshIn, services: TeamChatDep) -> SuccessOut:
    await services.accounts.logout(body.refreshToken)
    return SuccessOut()


@router.get("/me", response_model=MeOut, summary="The caller's account", responses=responses(401))
async def me(user: Account, services: TeamChatDep) -> MeOut:
    connected = await services.accounts.google_token(user.id) is not None
    return MeOut(user=UserOut.of(user), role=user.role, googleConnected=connected)


@router.post(
    "/gmail/token",
    response_model=SuccessOut,
    summary="Keep the caller's Google OAuth token (checked with Google, encrypted at rest) for creating meetings",
    responses=responses(
        422,
        described={
            401: "no access token, or Google does not accept the token",
            502: "Google could not be reached",
            409: "this server keeps no Google tokens (TEAM_TOKEN_ENCRYPTION_KEY is not set)",
        },
    ),
)
async def gmail_token(body: GmailTokenIn, user: Account, services: TeamChatDep) -> SuccessOut:
    await services.accounts.keep_google_token(user, body.token)
    return SuccessOut()
