"""The OAuth2 provider (authorization code + PKCE + rotating refresh tokens) and the bearer-token guard."""
from __future__ import annotations

from authlib.integrations.flask_oauth2 import AuthorizationServer, ResourceProtector
from authlib.oauth2.rfc6749 import MissingAuthorizationError, grants
from authlib.oauth2.rfc6750 import BearerTokenValidator
from authlib.oauth2.rfc7009 import RevocationEndpoint
from authlib.oauth2.rfc7636 import CodeChallenge
from flask import Flask, Response, current_app, jsonify
from werkzeug.exceptions import HTTPException

from . import models
from .db import get_db


class AuthorizationCodeGrant(grants.AuthorizationCodeGrant):
    TOKEN_ENDPOINT_AUTH_METHODS = list(models.TOKEN_ENDPOINT_AUTH_METHODS)

    def save_authorization_code(self, code, request):
        models.save_authorization_code(
            get_db(),
            models.AuthorizationCode(
                code=code,
                client_id=request.client.get_client_id(),
                user_id=request.user.id,
                redirect_uri=request.payload.redirect_uri,
                scope=request.scope,
                code_challenge=request.payload.data.get("code_challenge"),
                code_challenge_method=request.payload.data.get("code_challenge_method"),
            ),
        )

    def query_authorization_code(self, code, client):
        return models.claim_authorization_code(get_db(), code, client.get_client_id())

    def delete_authorization_code(self, authorization_code):
        """Nothing left to do: `query_authorization_code` already took the code out of the store."""

    def authenticate_user(self, authorization_code):
        return models.user_by_id(get_db(), authorization_code.user_id)


class RefreshTokenGrant(grants.RefreshTokenGrant):
    TOKEN_ENDPOINT_AUTH_METHODS = list(models.TOKEN_ENDPOINT_AUTH_METHODS)
    INCLUDE_NEW_REFRESH_TOKEN = True

    def authenticate_refresh_token(self, refresh_token):
        return models.claim_refresh_token(get_db(), refresh_token)

    def authenticate_user(self, refresh_token):
        return models.user_by_id(get_db(), refresh_token.user_id)

    def revoke_old_credential(self, refresh_token):
        """Already done: `authenticate_refresh_token` marked it used. The old access token lives out its time."""


class SandboxTokenValidator(BearerTokenValidator):
    def authenticate_token(self, token_string):
        return models.token_by_access_token(get_db(), token_string)


class SandboxRevocationEndpoint(RevocationEndpoint):
    """RFC 7009 at `POST /oauth/revoke`, for the client the token was issued to (client-authenticated).

    Revoking an access or a refresh token revokes the whole authorization it belongs to (every token of its
    refresh chain), as RFC 7009 allows: the user is logged out of that client for good.
    """

    CLIENT_AUTH_METHODS = list(models.TOKEN_ENDPOINT_AUTH_METHODS)

    def query_token(self, token_string, token_type_hint):
        db = get_db()
        if token_type_hint == "refresh_token":
            return models.token_by_refresh_token(db, token_string) or models.token_by_access_token(db, token_string)
        return models.token_by_access_token(db, token_string) or models.token_by_refresh_token(db, token_string)

    def revoke_token(self, token, request):
        models.revoke_grant(get_db(), token)


DOCUMENTED_UNAUTHORIZED = "You are unauthorized to make this request."


def unauthorized_response(error: str, description: str, status: int = 401, challenge: bool = True) -> Response:
    """A 401 as the sandbox is set to answer it (`--unauthorized`):

    - `documented`: `{"error": "You are unauthorized to make this request."}` and nothing else (the API
      documentation's body; no WWW-Authenticate header, so a client cannot come to rely on one);
    - `rfc6750`: `{"error": <code>, "error_description": …}` with a `WWW-Authenticate: Bearer` challenge.
    """
    if status == 401 and current_app.config["UNAUTHORIZED"] == "documented":
        response = jsonify({"error": DOCUMENTED_UNAUTHORIZED})
        response.status_code = 401
        return response
    response = jsonify({"error": error, "error_description": description})
    response.status_code = status
    header = 'Bearer realm="repovizz2"'
    if challenge:
        header += f', error="{error}", error_description="{description}"'
    response.headers["WWW-Authenticate"] = header
    return response


class SandboxResourceProtector(ResourceProtector):
    def raise_error_response(self, error):
        raise HTTPException(response=unauthorized_response(
            error.error, error.get_error_description(), error.status_code,
            challenge=not isinstance(error, MissingAuthorizationError)))


require_oauth = SandboxResourceProtector()
require_oauth.register_token_validator(SandboxTokenValidator())


def _query_client(client_id):
    return models.client_by_id(get_db(), client_id)


def _save_token(token, request):
    refreshed_from = getattr(request, "refresh_token", None)
    grant_id = refreshed_from.grant_id if isinstance(refreshed_from, models.Token) else None
    models.save_token(get_db(), token, request.client.get_client_id(), request.user.id, grant_id)


def init_app(app: Flask) -> None:
    """Give `app` its own authorization server, configured with the app's token lifetime."""
    expires_in = int(app.config["TOKEN_EXPIRES_IN"])
    app.config["OAUTH2_TOKEN_EXPIRES_IN"] = {"authorization_code": expires_in, "refresh_token": expires_in}
    app.config["OAUTH2_REFRESH_TOKEN_GENERATOR"] = True
    app.config["OAUTH2_SCOPES_SUPPORTED"] = [models.SCOPE]
    server = AuthorizationServer(app, query_client=_query_client, save_token=_save_token)
    server.register_grant(AuthorizationCodeGrant, [CodeChallenge(required=False)])
    server.register_grant(RefreshTokenGrant)
    server.register_endpoint(SandboxRevocationEndpoint)
    app.extensions["sandbox_authorization_server"] = server


def authorization_server() -> AuthorizationServer:
    return current_app.extensions["sandbox_authorization_server"]
