"""Figures over time (search/timeline.py): revised when later reports supersede, disputed
when figures of about the same time or of different parties cannot all be true."""

from __future__ import annotations

from search.claims import parse_quantity
from search.conflicts import Claim
from search.timeline import Report, same_time, short_date, story_timeline, timeline


def report(
    doc: str,
    source: str | None,
    answer: str,
    published: str | None,
    attributed_to: str | None = None,
    story: str | None = "s1",
) -> Report:
    claim = Claim(doc, source, answer, parse_quantity(answer), "quantity", story)
    return Report(claim, published, attributed_to)


def test_a_toll_that_rises_over_days_is_revised_with_its_points_in_order() -> None:
    result = timeline(
        [
            report("c", "AP", "300 people", "1987-03-09T15:31:00Z", "the Red Cross"),
            report("a", "Reuters", "at least six people", "1987-03-07T00:01:55Z", "officials"),
            report("b", "Reuters", "up to 300 people", "1987-03-09T17:07:26Z"),
        ]
    )
    assert result.disagreement == "revised"
    assert [p.value for p in result.points] == ["at least six", "300", "up to 300"]
    assert [p.sources for p in result.points] == [("Reuters",), ("AP",), ("Reuters",)]
    assert result.reasons[0].startswith("figures changed over time: at least six (Reuters, Mar 7")


def test_an_outlets_later_version_is_revised_even_when_its_figure_fell() -> None:
    result = timeline(
        [
            report("v1", "NBC News", "at least 62 demonstrators", "2019-12-31T09:00:00Z"),
            report("v2", "NBC News", "at least 10 demonstrators", "2019-12-31T18:00:00Z"),
        ]
    )
    assert result.disagreement == "revised"
    assert "the outlet's later report" in result.reasons[0]


def test_figures_at_about_the_same_time_are_disputed() -> None:
    result = timeline(
        [
            report("u", "Reuters", "10,000 workers", "1987-03-09T10:00:00Z", "the union"),
            report("e", "AP", "4,000 workers", "1987-03-09T12:30:00Z", "the company"),
        ]
    )
    assert result.disagreement == "disputed"
    assert "at about the same time" in result.reasons[0]
    # Reports more than PARALLAX_SAME_TIME_HOURS apart are not.
    apart = timeline(
        [
            report("u", "Reuters", "10,000 workers", "1987-03-09T01:00:00Z"),
            report("e", "AP", "4,000 workers", "1987-03-09T12:30:00Z"),
        ],
        same_time_hours=6,
    )
    assert "at about the same time" not in apart.reasons[0]


def test_a_later_lower_figure_from_another_party_is_disputed() -> None:
    result = timeline(
        [
            report("u", "Reuters", "10,000 strikers", "1987-03-09", "the union"),
            report("e", "Reuters", "4,000 strikers", "1987-03-11", "the employers"),
        ]
    )
    assert result.disagreement == "disputed"
    assert "from different parties" in result.reasons[0]


def test_a_day_without_a_time_is_the_same_time_as_that_whole_day() -> None:
    assert same_time("1987-03-09", "1987-03-09T23:59:00Z")
    assert not same_time("1987-03-09", "1987-03-10T00:01:00Z")
    assert same_time("1987-03-09T01:00:00Z", "1987-03-09T06:59:00Z", hours=6)
    assert not same_time(None, "1987-03-09")
    result = timeline(
        [
            report("a", "AP", "25 people", "1987-03-09"),
            report("b", "UPI", "40 people", "1987-03-09T20:00:00Z"),
        ]
    )
    assert result.disagreement == "disputed"


def test_agreeing_figures_have_no_disagreement_and_share_a_point() -> None:
    result = timeline(
        [
            report("a", "AP", "at least 25 fighters", "2019-12-31"),
            report("b", "Reuters", "25 fighters", "2019-12-31"),
        ]
    )
    assert result.disagreement is None
    assert result.reasons == ()
    assert len(result.points) == 2  # "at least 25" and "25" are told as written


def test_stories_are_never_compared_with_each_other() -> None:
    result = story_timeline(
        [
            report("p1", "AP", "10 people", "2020-01-01", story="s1"),
            report("f1", "AP", "185 people", "2020-01-01", story="s2"),
            report("f2", "UPI", "40 people", "2020-01-01", story="s2"),
        ]
    )
    assert result.disagreement == "disputed"
    assert all(reason.startswith("s2: sources disagree") for reason in result.reasons)
    assert {p.story_id for p in result.points} == {"s1", "s2"}


def test_dates_are_told_as_a_reader_says_them() -> None:
    assert short_date("1987-03-09") == "Mar 9 1987"
    assert short_date("1987-03-09T15:31:34Z") == "Mar 9 1987 15:31 UTC"
    assert short_date(None) == ""
