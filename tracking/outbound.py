"""Outbound notifications: advertiser webhooks and affiliate postbacks.

`event_emit` is the one entry point later apps call (commissions, payouts). The tracking issue
implements delivery (signed webhooks, postback macros, retries, delivery log).
"""


def event_emit(
    *,
    network_id: int,
    event: str,
    data: dict,
    advertiser_id: int | None = None,
    affiliate_id: int | None = None,
    macros: dict | None = None,
) -> None:
    """Queue `event` (e.g. "commission.approved") for delivery after the current transaction commits.

    - `data` is the JSON body sent to the advertiser's webhook endpoints subscribed to `event`
      (and to the network's operator endpoints).
    - When `affiliate_id` is given, that affiliate's postback URL template is fired with `macros`
      ({click_id}, {sub1}..{sub5}, {order_id}, {amount}, {payout}, {currency}, {status}, {program_id}).
    """
    return None
