"""A click whose sub IDs or headers carry a NUL (or a lone surrogate) is recorded without them, the same on SQLite
and PostgreSQL (which refuses NUL in text: the whole batch would fail); the visitor is redirected as always."""

import pytest

from tests.tracking import clicks_support
from tests.tracking.clicks_support import record_for, visit
from tracking import ingest
from tracking.ids import new_click_id
from tracking.models import Click

direct_clicks, program, link = clicks_support.direct_clicks, clicks_support.program, clicks_support.link


def test_a_nul_in_a_sub_id_is_dropped_and_the_visitor_redirected(link, direct_clicks):
    response = visit(f"/c/{link.code}", query="sub1=a%00b&sub2=%00", HTTP_USER_AGENT="Firefox\x00/140",
                     HTTP_REFERER="https://blog.example/\x00")
    assert response.status == 302
    click = Click.objects.get()
    assert (click.sub1, click.sub2, click.user_agent, click.referrer) == ("ab", "", "Firefox/140",
                                                                          "https://blog.example/")


@pytest.mark.django_db
def test_a_batch_with_bad_text_is_written_whole(link):
    bad = record_for(link, new_click_id(), sub1="x\x00y", user_agent="UA\ud800")
    good = record_for(link, new_click_id(), sub1="fb")
    assert ingest.ingest_records([bad, good]).inserted == 2
    assert sorted(Click.objects.values_list("sub1", "user_agent")) == [("fb", "Mozilla/5.0 Firefox/140.0"),
                                                                       ("xy", "UA")]


@pytest.mark.django_db
def test_bad_text_in_the_last_click_of_a_clean_batch_is_dropped(link):
    # The batch is searched as one text: a NUL in the last field of the last click is found all the same.
    clean = [record_for(link, new_click_id(), sub1=f"s{n}", ip_hash=f"v{n}") for n in range(50)]
    last = dict(record_for(link, new_click_id(), ip_hash="v-last"), ip_truncated="203.0.113.0\x00")
    assert ingest.ingest_records([*clean, last]).inserted == 51
    assert Click.objects.get(click_id=last["click_id"]).ip_truncated == "203.0.113.0"
    assert Click.objects.filter(sub1__in=[f"s{n}" for n in range(50)]).count() == 50


@pytest.mark.django_db
def test_a_record_without_some_text_fields_is_stored_with_their_defaults(link):
    # An older writer's record may lack a field: the batch-wide text check falls back to field by field.
    short = {key: value for key, value in record_for(link, new_click_id(), sub1="a\x00").items()
             if key not in ("referrer", "sub5")}
    other = record_for(link, new_click_id(), sub1="b")
    assert ingest.ingest_records([short, other]).inserted == 2
    assert sorted(Click.objects.values_list("sub1", "referrer", "sub5")) == [("a", "", ""), ("b", "", "")]
