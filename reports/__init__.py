"""Reports: clicks, conversions, revenue, payout and profit grouped by day/week/month, program, affiliate,
sub ID or country, for each party (its own numbers only), as JSON, CSV and report pages; and the figures of
every dashboard (KPI cards, per-day charts: `reports.figures`), which the overview pages of the other apps render.

Dependencies point one way: reports -> commissions -> tracking -> programs -> network. Reports read
tracking's ClickRollup (clicks; never raw clicks) and Conversion, and commissions' Commission (money);
they write nothing.
"""
