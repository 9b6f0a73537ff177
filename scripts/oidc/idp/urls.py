"""/accounts/login/ (Django's LoginView) and the provider under /openid/ (so the issuer is
SITE_URL/openid), whose authorization endpoint is idp.oidc's."""
from django.contrib.auth.views import LoginView
from django.urls import include, path, re_path
from oidc_provider import urls as provider_urls

from idp.oidc import AuthorizeView

provider = [re_path(r"^authorize/?$", AuthorizeView.as_view(), name="authorize")]
provider += [p for p in provider_urls.urlpatterns if p.name != "authorize"]

urlpatterns = [
    path("accounts/login/", LoginView.as_view(template_name="idp/login.html"), name="login"),
    path("openid/", include((provider, "oidc_provider"))),
]
