"""The provider's claims: email (verified unless the user's last name says otherwise), names; and
one client that is given ID tokens for another audience (the wrong-audience test)."""

from oauth2_provider.oauth2_validators import OAuth2Validator

from tests.sso.provider import CONFUSED_CLIENT


class Validator(OAuth2Validator):
    oidc_claim_scope = OAuth2Validator.oidc_claim_scope | {"email_verified": "email"}

    def get_additional_claims(self, request):
        user = request.user
        return {
            "email": user.email,
            "email_verified": user.last_name != "Unverified",
            "given_name": user.first_name,
            "family_name": user.last_name,
            "name": f"{user.first_name} {user.last_name}".strip(),
        }

    def get_id_token_dictionary(self, token, token_handler, request):
        claims, expiration_time = super().get_id_token_dictionary(token, token_handler, request)
        if request.client.client_id == CONFUSED_CLIENT:
            claims["aud"] = "some-other-client"
        return claims, expiration_time
