"""Page tests that belong to no one app: every advertiser page against ids no column can hold, and the static
assets the pages load. Each app's own page tests sit with its tests (`tests/<app>/test_*_pages.py`)."""
