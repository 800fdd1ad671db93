"""Keeps the redirect's link cache true: saves and deletes of links, programs, partnerships and affiliates
drop their cached entries (this process at once, other processes within clicks.LOCAL_TTL)."""

from django.db import transaction
from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver

from network.models import Affiliate
from programs.models import Partnership, Program, TrackingLink
from tracking import clicks


def _after_commit(func):
    # Now (a reader in this transaction sees the change) and after commit (a reader that cached the old
    # row between the save and the commit is corrected).
    func()
    transaction.on_commit(func)


@receiver([post_save, post_delete], sender=TrackingLink, dispatch_uid="clicks_forget_link")
def _link_changed(sender, instance, **kwargs):
    _after_commit(lambda: clicks.forget_links([instance.code]))


@receiver([post_save, post_delete], sender=Program, dispatch_uid="clicks_forget_program")
def _program_changed(sender, instance, **kwargs):
    _after_commit(lambda: clicks.forget_program(instance.pk))


@receiver([post_save, post_delete], sender=Partnership, dispatch_uid="clicks_forget_partnership")
def _partnership_changed(sender, instance, **kwargs):
    codes = list(TrackingLink.objects.filter(network_id=instance.network_id, partnership_id=instance.pk)
                 .values_list("code", flat=True))
    if codes:
        _after_commit(lambda: clicks.forget_links(codes))


@receiver([post_save, post_delete], sender=Affiliate, dispatch_uid="clicks_forget_affiliate")
def _affiliate_changed(sender, instance, **kwargs):
    codes = list(TrackingLink.objects.filter(network_id=instance.network_id, affiliate_id=instance.pk)
                 .values_list("code", flat=True))
    if codes:
        _after_commit(lambda: clicks.forget_links(codes))
