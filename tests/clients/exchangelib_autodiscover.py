"""exchangelib's own POX autodiscover client against a mailsetup server.

For each address, exchangelib's discovery step 1 (POST to
https://<domain>/Autodiscover/Autodiscover.xml, its own request body, its
own HTTP stack, TLS verified against REQUESTS_CA_BUNDLE) is run, and its own
parser's reading of our answer is printed as one JSON object per address.

Every host name resolves to 127.0.0.1 and port 443 goes to mailsetup's
HTTPS port: nothing leaves loopback.

usage: exchangelib_autodiscover.py MAILSETUP_HTTPS_PORT ADDRESS...
"""

import json
import socket
import sys

port = int(sys.argv[1])
addresses = sys.argv[2:]

real_getaddrinfo = socket.getaddrinfo


def loopback_getaddrinfo(host, service, *args, **kwargs):
    if service in (443, "443", "https"):
        service = port
    return real_getaddrinfo("127.0.0.1", service, *args, **kwargs)


socket.getaddrinfo = loopback_getaddrinfo

from exchangelib import Credentials  # noqa: E402
from exchangelib.errors import AutoDiscoverFailed  # noqa: E402

try:  # the POX discovery class; its module moved between releases
    from exchangelib.autodiscover.discovery.pox import PoxAutodiscovery as Discovery  # noqa: E402
except ImportError:
    from exchangelib.autodiscover.discovery import Autodiscovery as Discovery  # noqa: E402

# exchangelib checks names with a DNS query first; there is no DNS here.
Discovery._is_valid_hostname = lambda self, hostname: True
Discovery._ensure_valid_hostname = lambda self, url: None


def on_off(value):
    return None if value is None else bool(value)


results = {}
for address in addresses:
    domain = address.split("@", 1)[1]
    discovery = Discovery(email=address, credentials=Credentials(address, "unused"))
    url = f"https://{domain}/{Discovery.URL_PATH}"
    valid, ad = discovery._attempt_response(url=url)
    result = {"url": url, "valid": valid}
    if valid:
        try:
            ad.raise_errors()
        except AutoDiscoverFailed as error:
            result["error"] = str(error)
        response = ad.response
        if response is not None:
            account = response.account
            result["action"] = account.action
            result["redirect_url"] = response.redirect_url
            result["smtp_address"] = response.autodiscover_smtp_address
            result["protocols"] = [
                {
                    "type": p.type,
                    "server": p.server,
                    "port": p.port,
                    "ssl": on_off(p.ssl),
                    "encryption": getattr(p, "encryption", None),
                    "spa": on_off(p.spa),
                    "auth_required": on_off(p.auth_required),
                    "login_name": p.login_name,
                    "domain_required": on_off(p.domain_required),
                    "ttl": p.ttl,
                }
                for p in (account.protocols or [])
            ]
        if "error" not in result:
            # What exchangelib's discover() does next with this answer, step
            # by step, without its DNS lookups: step 5 follows a redirect URL
            # or returns the answer, and discover() builds its EWS
            # configuration from it. A failure there is recorded as the
            # exception's class and message.
            try:
                final = discovery._step_5(ad=ad)
                discovery._build_response(ad_response=final)
                result["discovery"] = "ok"
            except Exception as error:  # noqa: BLE001 - recorded, not hidden
                result["discovery"] = f"{type(error).__name__}: {error}"
    results[address] = result
print(json.dumps(results))
