"""The `public` file store (settings.STORAGES) for model fields: what other sites embed, at a stable URL."""

from django.core.files.storage import storages
from django.core.signals import setting_changed
from django.utils.functional import LazyObject, empty


class _Store(LazyObject):
    """A storage alias resolved on first use and again after STORAGES changes (tests), as Django's own
    `default_storage` is: a field's storage object is made once, when its model class is."""

    def __init__(self, alias: str):
        self.__dict__["_alias"] = alias
        super().__init__()

    def _setup(self):
        self._wrapped = storages[self._alias]


_public = _Store("public")


def public_storage():
    """For `FileField(storage=public_storage)` (migrations keep the callable, not the object)."""
    return _public


def _forget(*, setting, **kwargs) -> None:
    if setting == "STORAGES":
        _public._wrapped = empty


setting_changed.connect(_forget, dispatch_uid="core.storage")
