"""DNS for the tracking-domain tests: the resolver (CNAME chains) and the TXT records, patched in network.domains."""

from network import domains
from network.models import TrackingDomain


def published_tokens(name: str) -> list[str]:
    """The TXT records as if every domain's owner had published its token (tests of the CNAME check need no more)."""
    domain = name.removeprefix("_affiliate-verify.")
    return list(TrackingDomain.objects.filter(domain=domain).values_list("challenge_token", flat=True))


def patch_dns(monkeypatch, target: str) -> dict:
    """The resolver: name -> (canonical name, addresses) (a name not in it does not resolve); every added domain's
    TXT token published. Returns the resolver's records to add to."""
    records = {target: (target, frozenset({"192.0.2.10"}))}

    def resolve(name):
        if name not in records:
            raise OSError("Name or service not known")
        return records[name]

    monkeypatch.setattr(domains, "resolve", resolve)
    monkeypatch.setattr(domains, "txt_records", published_tokens)
    return records
