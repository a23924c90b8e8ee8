"""The OAuth2 provider (authorization code + PKCE + rotating refresh tokens) and the bearer-token guard."""
from __future__ import annotations

from authlib.integrations.flask_oauth2 import AuthorizationServer, ResourceProtector
from authlib.oauth2.rfc6749 import MissingAuthorizationError, grants
from authlib.oauth2.rfc6750 import BearerTokenValidator
from authlib.oauth2.rfc7636 import CodeChallenge
from flask import Flask, current_app, jsonify
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


class SandboxResourceProtector(ResourceProtector):
    def raise_error_response(self, error):
        """401/403 as JSON `{"error", "error_description"}` with a `WWW-Authenticate: Bearer` challenge."""
        description = error.get_error_description()
        response = jsonify({"error": error.error, "error_description": description})
        response.status_code = error.status_code
        challenge = 'Bearer realm="repovizz2"'
        if not isinstance(error, MissingAuthorizationError):
            challenge += f', error="{error.error}", error_description="{description}"'
        response.headers["WWW-Authenticate"] = challenge
        raise HTTPException(response=response)


require_oauth = SandboxResourceProtector()
require_oauth.register_token_validator(SandboxTokenValidator())


def _query_client(client_id):
    return models.client_by_id(get_db(), client_id)


def _save_token(token, request):
    models.save_token(get_db(), token, request.client.get_client_id(), request.user.id)


def init_app(app: Flask) -> None:
    """Give `app` its own authorization server, configured with the app's token lifetime."""
    expires_in = int(app.config["TOKEN_EXPIRES_IN"])
    app.config["OAUTH2_TOKEN_EXPIRES_IN"] = {"authorization_code": expires_in, "refresh_token": expires_in}
    app.config["OAUTH2_REFRESH_TOKEN_GENERATOR"] = True
    app.config["OAUTH2_SCOPES_SUPPORTED"] = [models.SCOPE]
    server = AuthorizationServer(app, query_client=_query_client, save_token=_save_token)
    server.register_grant(AuthorizationCodeGrant, [CodeChallenge(required=False)])
    server.register_grant(RefreshTokenGrant)
    app.extensions["sandbox_authorization_server"] = server


def authorization_server() -> AuthorizationServer:
    return current_app.extensions["sandbox_authorization_server"]
