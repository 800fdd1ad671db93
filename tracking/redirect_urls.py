"""The visitor-facing click redirect (/c/<code>); filled in by the tracking issue."""
urlpatterns: list = []
