"""Writes for programs: programs and rules, partnerships and their decisions, tracking links, creatives, coupons.

Each service validates what the database cannot, writes, records the audit log and queues e-mails on commit.
Rules are checked here whoever calls (`rule_checks.rules_clean`); the API's serializers check the same first, to
report every field's error at once.
"""

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext

from network.i18n import choice_word
from network.models import Affiliate, Network, PartyStatus, User
from network.services import audit_log_record

from . import caps, emails, signals
from . import models as program_models
from .deeplinks import is_allowed_destination
from .models import SUB_FIELDS, CommissionRule, CouponCode, Creative, LinkCode, Partnership, Program, TrackingLink
from .rule_checks import rules_clean
from .selectors import default_link_for
from .targeting import targeting_clean

LINK_CODE_ATTEMPTS = 5
PROGRAM_FIELDS = (
    "name", "description", "landing_url", "allowed_domains", "status", "visibility", "approval",
    "attribution_window_days", "attribution_model", "hold_days", "fallback_url", "second_tier_percent",
    "fraud_policy", "terms", "velocity_max_clicks", "velocity_window_minutes", "targeting",
    "caps",
)


def _code_taken(code: str) -> str:
    return gettext("The code %(code)s is already used in this network.") % {"code": code}


def _actor(user: User | None) -> User | None:
    return user if user is not None and user.is_authenticated else None


def _same_network(network: Network, *objects) -> None:
    for obj in objects:
        if obj.network_id != network.pk:
            raise ValidationError(gettext("%(object)s belongs to another network.")
                                  % {"object": str(obj._meta.verbose_name).capitalize()})


# --- programs and rules ------------------------------------------------------------------------------
def _clean_targeting(fields: dict) -> None:
    """The targeting in its stored form (codes upper case, sorted, once each); errors under `targeting`."""
    if "targeting" in fields:
        try:
            fields["targeting"] = targeting_clean(fields["targeting"])
        except ValidationError as error:
            raise ValidationError({"targeting": [f"{key}: {message}" for key, messages in error.message_dict.items()
                                                 for message in messages]}) from None


def _add_rules(program: Program, rules: list[dict]) -> list[CommissionRule]:
    """Write rules checked by `rules_clean` (their affiliates are in the program's network)."""
    return [CommissionRule.objects.create(network_id=program.network_id, program=program, **rule) for rule in rules]


@transaction.atomic
def program_create(*, network: Network, advertiser, actor: User | None, rules: list[dict], **fields) -> Program:
    _same_network(network, advertiser)
    unknown = set(fields) - set(PROGRAM_FIELDS) - {"currency"}
    if unknown:
        raise ValidationError(f"Unknown program fields: {sorted(unknown)}")
    _clean_targeting(fields)
    program = Program(network=network, advertiser=advertiser, **fields)
    program.full_clean(exclude=["network", "advertiser"])
    rules = rules_clean(network=network, currency=program.currency, rules=rules)
    program.save()
    _add_rules(program, rules)
    if program.caps is not None:  # a new program has delivered nothing yet: its counters start at zero
        caps.caps_pause_recompute(program=program)
    audit_log_record(network=network, actor=_actor(actor), action="program.created", target=program,
                     data={"name": program.name, "rules": len(rules)})
    return program


@transaction.atomic
def program_update(*, network: Network, program: Program, actor: User | None, rules: list[dict] | None = None,
                   **fields) -> Program:
    """Change a program's settings; `rules` are added (among rules for the same event and target the newest wins,
    so a new rule replaces the old one while commissions keep pointing at the rule they were computed with)."""
    _same_network(network, program)
    program = Program.objects.select_for_update().get(network=network, pk=program.pk)
    if "currency" in fields and fields.pop("currency") != program.currency:
        raise ValidationError({"currency": [gettext("A program's currency cannot change; create a new program.")]})
    if program.status == Program.Status.ARCHIVED:
        raise ValidationError({"status": [gettext("The program is archived; it can no longer be changed.")]})
    _clean_targeting(fields)
    changed = {}
    had_caps = caps.has_limits(program.caps)
    for name, value in fields.items():
        if name not in PROGRAM_FIELDS:
            raise ValidationError({name: [gettext("This field cannot be changed.")]})
        if name == "targeting" and targeting_clean(program.targeting) == value:
            continue  # the same restrictions, only spelled out ({} and empty lists)
        if getattr(program, name) != value:
            changed[name] = str(value)
            setattr(program, name, value)
    program.full_clean(exclude=["network", "advertiser"])
    rules = rules_clean(network=network, currency=program.currency, rules=rules or [])
    program.save(update_fields=[*fields, "updated_at"])
    _add_rules(program, rules)
    if "caps" in changed:
        if not had_caps and caps.has_limits(program.caps):
            signals.caps_started.send(sender=Program, program=program, partnership=None)
        caps.caps_pause_recompute(program=program)
    audit_log_record(network=network, actor=_actor(actor), action="program.updated", target=program,
                     data={"changed": changed, "rules_added": len(rules or [])})
    return program


# --- partnerships -----------------------------------------------------------------------------------
def _refusal(partnership: Partnership) -> str:
    return {
        Partnership.Status.PENDING: gettext("You already applied to this program; your application is pending."),
        Partnership.Status.APPROVED: gettext("You are already an approved partner of this program."),
        Partnership.Status.REJECTED: gettext("Your application to this program was rejected; you cannot apply "
                                             "again."),
        Partnership.Status.SUSPENDED: gettext("Your partnership in this program is suspended; you cannot apply "
                                              "again."),
    }[partnership.status]


@transaction.atomic
def partnership_apply(*, network: Network, program: Program, affiliate: Affiliate, actor: User | None = None
                      ) -> Partnership:
    """Apply to a program: approved at once when its approval is automatic, else pending. Applying to an
    invitation accepts it (approved at once)."""
    _same_network(network, program, affiliate)
    if affiliate.status != PartyStatus.ACTIVE:
        raise ValidationError({"detail": gettext("Your affiliate account is not active in this network yet.")})
    if program.status != Program.Status.ACTIVE:
        raise ValidationError({"detail": gettext("The program is %(status)s; it does not accept applications.")
                               % {"status": choice_word(Program.Status, program.status)}})
    now = timezone.now()
    existing = (Partnership.objects.select_for_update()
                .filter(network_id=program.network_id, program=program, affiliate=affiliate).first())
    if existing is not None:
        if existing.status == Partnership.Status.PENDING and existing.invited_at is not None:
            existing.status = Partnership.Status.APPROVED
            existing.decided_at, existing.decided_by = now, _actor(actor)
            existing.save(update_fields=["status", "decided_at", "decided_by"])
            audit_log_record(network=network, actor=_actor(actor), action="partnership.invitation_accepted",
                             target=existing)
            _approved(network, existing)
            signals.partnership_decided.send(sender=Partnership, partnership=existing)
            emails.partnership_applied(existing)
            return existing
        raise ValidationError({"detail": _refusal(existing)})
    if program.visibility == Program.Visibility.INVITE:
        raise ValidationError({"detail": gettext("This program is invite only.")})
    auto = program.approval == Program.Approval.AUTO
    try:
        with transaction.atomic():
            partnership = Partnership.objects.create(
                network=network, program=program, affiliate=affiliate,
                status=Partnership.Status.APPROVED if auto else Partnership.Status.PENDING,
                decided_at=now if auto else None,
            )
    except IntegrityError as exc:  # a concurrent application won the race
        raise ValidationError({"detail": gettext("You already applied to this program.")}) from exc
    audit_log_record(network=network, actor=_actor(actor), action="partnership.applied", target=partnership,
                     data={"program": program.pk, "status": partnership.status})
    emails.partnership_applied(partnership)
    if auto:
        _approved(network, partnership)
        signals.partnership_decided.send(sender=Partnership, partnership=partnership)
        emails.partnership_decided(partnership)
    return partnership


@transaction.atomic
def partnership_invite(*, network: Network, program: Program, affiliate: Affiliate, actor: User | None) -> Partnership:
    """Invite an affiliate (the way into invite-only programs): a pending partnership it accepts by applying."""
    _same_network(network, program, affiliate)
    if program.status == Program.Status.ARCHIVED:
        raise ValidationError({"detail": gettext("The program is archived.")})
    existing = Partnership.objects.filter(network=network, program=program, affiliate=affiliate).first()
    if existing is not None:
        raise ValidationError({"affiliate": [gettext("This affiliate already has a partnership here (%(status)s).")
                                             % {"status": choice_word(Partnership.Status, existing.status)}]})
    partnership = Partnership.objects.create(
        network=network, program=program, affiliate=affiliate, status=Partnership.Status.PENDING,
        invited_by=_actor(actor), invited_at=timezone.now(),
    )
    audit_log_record(network=network, actor=_actor(actor), action="partnership.invited", target=partnership)
    emails.partnership_invited(partnership)
    return partnership


def _approved(network: Network, partnership: Partnership) -> None:
    """An approved partnership gets its default link at once (creatives and the link builder show it; no page
    creates links as a side effect of being opened)."""
    if partnership.program.status == Program.Status.ACTIVE:
        tracking_link_default(network=network, partnership=partnership)


# to-state: the states it may be reached from
TRANSITIONS = {
    Partnership.Status.APPROVED: (Partnership.Status.PENDING,),
    Partnership.Status.REJECTED: (Partnership.Status.PENDING,),
    Partnership.Status.SUSPENDED: (Partnership.Status.APPROVED,),
}


@transaction.atomic
def partnership_decide(*, network: Network, partnership: Partnership, status: str, actor: User | None,
                       note: str = "") -> Partnership:
    """Approve, reject or suspend, from the states TRANSITIONS allows; a guarded update, so two deciders
    racing cannot both win."""
    _same_network(network, partnership)
    allowed = TRANSITIONS[status]
    values = {"status": status, "decided_at": timezone.now(), "decided_by": _actor(actor)}
    if note:
        values["note"] = note
    updated = Partnership.objects.filter(network=network, pk=partnership.pk, status__in=allowed).update(**values)
    partnership.refresh_from_db()
    if not updated:
        raise ValidationError({"detail": gettext(
            "The partnership is %(status)s; only a %(allowed)s partnership can be %(decision)s.") % {
            "status": choice_word(Partnership.Status, partnership.status),
            "allowed": gettext(" or ").join(choice_word(Partnership.Status, a) for a in allowed),
            "decision": choice_word(Partnership.Status, status)}})
    audit_log_record(network=network, actor=_actor(actor), action=f"partnership.{status}", target=partnership,
                     data={"note": note} if note else None)
    if status == Partnership.Status.APPROVED:
        _approved(network, partnership)
    signals.partnership_decided.send(sender=Partnership, partnership=partnership)
    emails.partnership_decided(partnership)
    return partnership


@transaction.atomic
def partnership_caps_set(*, network: Network, partnership: Partnership, caps_value: dict | None,
                         actor: User | None) -> Partnership:
    """Set (or clear, with None) a partnership's own caps, which replace the program's for its conversions."""
    _same_network(network, partnership)
    partnership = Partnership.objects.select_for_update().select_related("program__network").get(
        network=network, pk=partnership.pk)
    previous = partnership.caps
    partnership.caps = caps_value
    partnership.save(update_fields=["caps"])
    if caps.has_limits(caps_value) and (previous is None or not caps.has_limits(previous)):
        signals.caps_started.send(sender=Program, program=partnership.program, partnership=partnership)
    caps.caps_pause_recompute(program=partnership.program, partnership=partnership)
    audit_log_record(network=network, actor=_actor(actor), action="partnership.caps_set", target=partnership,
                     data={"previous": previous, "caps": caps_value})
    return partnership


# --- tracking links --------------------------------------------------------------------------------
def _check_link(partnership: Partnership, destination_url: str) -> None:
    program = partnership.program
    if partnership.status != Partnership.Status.APPROVED:
        raise ValidationError({"program": [gettext("Your partnership in this program is %(status)s; links need an "
                                                   "approved partnership.")
                                           % {"status": choice_word(Partnership.Status, partnership.status)}]})
    if program.status != Program.Status.ACTIVE:
        raise ValidationError({"program": [gettext("The program is %(status)s.")
                                           % {"status": choice_word(Program.Status, program.status)}]})
    if destination_url and not is_allowed_destination(
        destination_url, landing_url=program.landing_url, allowed_domains=program.allowed_domains
    ):
        raise ValidationError({"url": [
            gettext("Deep links must be http(s) URLs on the program's landing host or its allowed domains.")
        ]})


def _new_link(partnership: Partnership, destination_url: str, subs: dict) -> TrackingLink:
    return TrackingLink(
        network_id=partnership.network_id, partnership=partnership, program_id=partnership.program_id,
        affiliate_id=partnership.affiliate_id, destination_url=destination_url or "",
        code=program_models.new_link_code(), **{k: subs.get(k) or "" for k in SUB_FIELDS},
    )


def tracking_link_create(*, network: Network, partnership: Partnership, destination_url: str = "",
                         subs: dict | None = None, actor: User | None = None) -> TrackingLink:
    """A link with a fresh code; a code collision (unique across the installation) is retried."""
    _same_network(network, partnership)
    _check_link(partnership, destination_url)
    for attempt in range(LINK_CODE_ATTEMPTS):
        link = _new_link(partnership, destination_url, subs or {})
        try:
            with transaction.atomic():
                link.save(force_insert=True)
                audit_log_record(network=network, actor=_actor(actor), action="link.created", target=link,
                                 data={"code": link.code})
            return link
        except IntegrityError:
            if attempt == LINK_CODE_ATTEMPTS - 1:
                raise
    raise AssertionError("unreachable")


def tracking_links_create_bulk(*, network: Network, partnership: Partnership, specs: list[dict],
                               actor: User | None = None) -> list[TrackingLink]:
    """Many links at once (imports, campaigns): codes are checked against the table and each other, then
    inserted in batches; a collision with a concurrent insert retries with new codes."""
    _same_network(network, partnership)
    for spec in specs:
        _check_link(partnership, spec.get("destination_url", ""))
    links = [_new_link(partnership, spec.get("destination_url", ""), spec) for spec in specs]
    for attempt in range(LINK_CODE_ATTEMPTS):
        taken: set[str] = set()
        codes = [link.code for link in links]
        for start in range(0, len(codes), 900):
            taken.update(LinkCode.objects.filter(code__in=codes[start:start + 900]).values_list("code", flat=True))
        for link in links:
            while link.code in taken:
                link.code = program_models.new_link_code()
            taken.add(link.code)
        try:
            with transaction.atomic():
                LinkCode.objects.bulk_create([LinkCode(code=link.code, network_id=link.network_id) for link in links],
                                             batch_size=1000)
                TrackingLink.objects.bulk_create(links, batch_size=1000)
                audit_log_record(network=network, actor=_actor(actor), action="link.bulk_created",
                                 target=partnership, data={"count": len(links)})
            return links
        except IntegrityError:
            if attempt == LINK_CODE_ATTEMPTS - 1:
                raise
            for link in links:
                link.pk = None
                link.code = program_models.new_link_code()
    raise AssertionError("unreachable")


def tracking_link_default(*, network: Network, partnership: Partnership) -> TrackingLink:
    """The partnership's plain link (creatives are rendered with it), made when the partnership is approved."""
    return default_link_for(partnership) or tracking_link_create(network=network, partnership=partnership)


@transaction.atomic
def tracking_link_archive(*, network: Network, link: TrackingLink, actor: User | None) -> TrackingLink:
    _same_network(network, link)
    if not link.archived:
        link.archived = True
        link.save(update_fields=["archived"])
        audit_log_record(network=network, actor=_actor(actor), action="link.archived", target=link)
    return link


# --- creatives -------------------------------------------------------------------------------------
def _image_size(image) -> tuple[int | None, int | None]:
    from PIL import Image

    try:
        image.seek(0)
        with Image.open(image) as picture:
            return picture.width, picture.height
    except Exception:
        return None, None
    finally:
        image.seek(0)


@transaction.atomic
def creative_create(*, network: Network, program: Program, actor: User | None, kind: str, name: str,
                    body: str = "", image=None, is_active: bool = True) -> Creative:
    _same_network(network, program)
    creative = Creative(network=network, program=program, kind=kind, name=name, body=body, is_active=is_active)
    if image is not None:
        creative.width, creative.height = _image_size(image)
        creative.image.save(image.name, image, save=False)  # through the storage API (local or S3 alike)
    creative.save()
    audit_log_record(network=network, actor=_actor(actor), action="creative.created", target=creative)
    return creative


@transaction.atomic
def creative_update(*, network: Network, creative: Creative, actor: User | None, **fields) -> Creative:
    _same_network(network, creative)
    image = fields.pop("image", None)
    for name, value in fields.items():
        setattr(creative, name, value)
    if image is not None:
        old = creative.image.name
        creative.width, creative.height = _image_size(image)
        creative.image.save(image.name, image, save=False)
        if old:
            transaction.on_commit(lambda: creative.image.storage.delete(old))
    if creative.kind == Creative.Kind.BANNER and not creative.image:
        raise ValidationError({"image": [gettext("A banner needs an image.")]})
    creative.save(update_fields=[*fields, *(["image", "width", "height"] if image is not None else [])])
    audit_log_record(network=network, actor=_actor(actor), action="creative.updated", target=creative,
                     data={"fields": sorted(fields) + (["image"] if image is not None else [])})
    return creative


# --- coupons ---------------------------------------------------------------------------------------
@transaction.atomic
def coupon_create(*, network: Network, partnership: Partnership, code: str, actor: User | None,
                  description: str = "") -> CouponCode:
    """A code unique in the network (case-insensitive: stored upper case), for one approved partnership."""
    _same_network(network, partnership)
    if partnership.status != Partnership.Status.APPROVED:
        raise ValidationError({"partnership": [gettext("The partnership is %(status)s; coupons are for approved "
                                                       "partnerships.")
                                               % {"status": choice_word(Partnership.Status, partnership.status)}]})
    code = code.strip().upper()
    if CouponCode.objects.for_network(network).filter(code=code).exists():
        raise ValidationError({"code": [_code_taken(code)]})
    try:
        with transaction.atomic():
            coupon = CouponCode.objects.create(network=network, partnership=partnership, code=code,
                                               description=description)
    except IntegrityError as exc:
        raise ValidationError({"code": [_code_taken(code)]}) from exc
    audit_log_record(network=network, actor=_actor(actor), action="coupon.created", target=coupon,
                     data={"code": code, "partnership": partnership.pk})
    return coupon


@transaction.atomic
def coupon_deactivate(*, network: Network, coupon: CouponCode, actor: User | None) -> CouponCode:
    _same_network(network, coupon)
    if CouponCode.objects.filter(network=network, pk=coupon.pk, is_active=True).update(is_active=False):
        audit_log_record(network=network, actor=_actor(actor), action="coupon.deactivated", target=coupon)
    coupon.refresh_from_db()
    return coupon
