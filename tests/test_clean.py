"""Cleaning removes each kind of page debris from the seed pages and keeps the reporting."""

from __future__ import annotations

import pytest

from helpers import SEEDS
from index.clean import CleanedPage, clean_page, clean_text


def _page(stem: str) -> CleanedPage:
    (path,) = SEEDS.glob(f"{stem}_*.txt")
    return clean_page(path.read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def pages() -> dict[str, CleanedPage]:
    return {stem: _page(stem) for stem in ("000", "001", "002", "003", "004")}


def test_date_marker_becomes_published_and_leaves_the_text(pages: dict[str, CleanedPage]) -> None:
    for stem in ("002", "003", "004"):
        assert pages[stem].published == "2019-12-31"
        assert "2019-12-31" not in pages[stem].text
        assert not pages[stem].text.startswith("date")
    assert pages["002"].text.startswith("Protesters on Tuesday stormed the U.S. Embassy in Baghdad")
    # 000 and 001 carry no marker, so no date is invented for them.
    assert pages["000"].published is None
    assert pages["001"].published is None


def test_headline_line_becomes_title_and_is_not_text(pages: dict[str, CleanedPage]) -> None:
    expected = {
        "000": "U.S. Embassy in Baghdad stormed by protesters after Iraq airstrikes",
        "001": "U.S. Embassy compound in Baghdad stormed by protesters after Iraq airstrikes",
    }
    for stem, title in expected.items():
        assert pages[stem].title == title
        assert title not in pages[stem].text
        assert pages[stem].text.startswith("Dozens of people stormed the compound")


def test_pages_without_a_headline_get_no_title(pages: dict[str, CleanedPage]) -> None:
    # Their first paragraph is a full sentence of reporting and must stay in the text.
    for stem in ("002", "003", "004"):
        assert pages[stem].title is None
    assert pages["003"].text.startswith("Dozens of supporters of the Iraqi Shiite militia")


def test_trailing_source_line_becomes_site(pages: dict[str, CleanedPage]) -> None:
    assert pages["000"].site == "nbcnews.com"
    assert "source:" not in pages["000"].text
    assert "nbcnews.com" not in pages["000"].text
    assert pages["000"].text.endswith("The militia targeted has vowed to respond.")
    assert pages["001"].site is None


def test_newsletter_promo_is_removed(pages: dict[str, CleanedPage]) -> None:
    text = pages["000"].text
    assert "Let our news meet your inbox" not in text
    assert "delivered weekday mornings" not in text
    # The paragraphs on either side of the promo are kept.
    assert "at least three U.S. soldiers on the roof" in text
    assert "Iraqi Prime Minister Adel Abdul-Mahdi issued a statement" in text


def test_gallery_captions_are_removed_including_the_one_glued_to_the_first_line(
    pages: dict[str, CleanedPage],
) -> None:
    text = pages["004"].text
    assert "Open this photo in gallery" not in text
    for credit in ("THAIER AL-SUDANI/Reuters", "AL-RUBAYE/AFP/Getty Images", "Khalid Mohammed"):
        assert credit not in text
    assert "sentry box" not in text
    assert text.startswith("Protesters broke into the heavily guarded compound")
    # The reporting paragraphs next to the captions survive.
    assert "Thousands of protesters marched into Baghdad’s heavily guarded Green Zone" in text
    assert "The upheaval comes at a critical time for Iraq" in text


def test_advertisement_markers_are_removed(pages: dict[str, CleanedPage]) -> None:
    assert "advertisement" not in pages["004"].text.lower()
    assert "advertisement" not in pages["003"].text.lower()
    # The paragraphs around each "Story continues below advertisement" are kept.
    assert "A spokesman for the militia denied involvement in the attack." in pages["004"].text
    assert "“We will not leave these tents" in pages["004"].text


def test_update_stamp_is_removed(pages: dict[str, CleanedPage]) -> None:
    text = pages["002"].text
    assert "Updated at" not in text
    assert "9:15" not in text
    assert text.endswith("Mohammed Muhi said, according to the Times.")


def test_name_tooltip_collapses_to_the_name(pages: dict[str, CleanedPage]) -> None:
    text = pages["002"].text
    assert "In response, President Trump accused Iran of being behind them" in text
    for debris in ("TrumpDonald", "Schumer renews call", "Tulsi Gabbard", "Susan Collins", "MORE"):
        assert debris not in text


def test_twitter_picture_link_is_dropped_but_the_tweet_is_kept(
    pages: dict[str, CleanedPage],
) -> None:
    text = pages["002"].text
    assert "pic.twitter.com" not in text
    assert "wAeLjjQMy4" not in text
    assert "Burning the outer fence of the US embassy — mustafa saadoon (@SaadoonMustafa)" in text


def test_quoted_tweets_are_kept(pages: dict[str, CleanedPage]) -> None:
    text = pages["002"].text
    tweet = (
        "Iran killed an American contractor, wounding many. We strongly responded, and always "
        "will. Now Iran is orchestrating an attack on the U.S. Embassy in Iraq. They will be held "
        "fully responsible. In addition, we expect Iraq to use its forces to protect the Embassy, "
        "and so notified! — Donald J. Trump (@realDonaldTrump) December 31, 2019"
    )
    assert tweet in text.split("\n\n")
    assert "“They will be held fully responsible,” he tweeted." in text


def test_every_reporting_paragraph_of_001_survives(pages: dict[str, CleanedPage]) -> None:
    # 001 has no debris besides its headline: everything else, the correction too, is reporting.
    raw = next(SEEDS.glob("001_*.txt")).read_text(encoding="utf-8")
    paragraphs = [p.strip() for p in raw.split("\n") if p.strip()][1:]
    assert pages["001"].text.split("\n\n") == paragraphs
    assert pages["001"].text.endswith("She is Stephanie Grisham, not Graham.")


# clean_text on small synthetic inputs


def test_clean_text_normalises_line_breaks_and_spaces() -> None:
    text = "Line one.\r\n\r\n\r\nLine  two with  spaces.\rThird."
    assert clean_text(text) == "Line one.\n\nLine two with spaces.\n\nThird."


def test_clean_text_drops_boilerplate_paragraphs_and_keeps_the_rest() -> None:
    text = (
        "Protesters gathered on Tuesday.\n\n"
        "Story continues below advertisement\n\n"
        "Let our news meet your inbox. Sign up now.\n\n"
        "Open this photo in gallery Smoke over the city. JANE ROE/Reuters\n\n"
        "Updated at 9:15 a.m.\n\n"
        "Police used tear gas."
    )
    assert clean_text(text) == "Protesters gathered on Tuesday.\n\nPolice used tear gas."


def test_a_caption_is_known_by_its_credit_whatever_the_viewer_prompt() -> None:
    text = (
        "Enlarge this image Smoke rises over the city. Jane Roe/The Associated Press\n\n"
        "Protesters broke in.\n\n"
        "The price rose to 5 dollars/ounce"
    )
    assert clean_text(text) == "Protesters broke in.\n\nThe price rose to 5 dollars/ounce"


def test_clean_text_drops_picture_links_inside_a_sentence() -> None:
    text = "Smoke over the embassy pic.twitter.com/AbC123 — a reporter (@rep) December 31, 2019"
    assert clean_text(text) == "Smoke over the embassy — a reporter (@rep) December 31, 2019"


def test_clean_text_of_only_boilerplate_is_empty() -> None:
    assert clean_text("Story continues below advertisement\n\n  \n\nUpdated at 9:15 a.m.") == ""


def test_clean_text_keeps_ordinary_mentions_of_boilerplate_words() -> None:
    text = (
        "The gallery said the photo was open to the public.\n\n"
        "More than 60 people were injured.\n\n"
        "Officials updated the figures at 9 a.m., saying 62 were hurt."
    )
    assert clean_text(text) == text


def test_clean_text_keeps_a_short_reporting_paragraph_starting_with_updated() -> None:
    text = "Updated figures show 62 injured.\n\nPolice used tear gas."
    assert clean_text(text) == text


def test_clean_text_keeps_a_paragraph_with_a_camel_case_name_and_capital_more() -> None:
    text = "Sen. John McCain said the U.S. needs MORE troops."
    assert clean_text(text) == text


def test_clean_text_keeps_advertisement_as_the_first_word_of_reporting() -> None:
    text = "Advertisement spending fell 5% in 2019, the agency said."
    assert clean_text(text) == text


def test_reporting_that_mentions_newsletters_or_ends_in_a_caption_is_kept() -> None:
    quoted = '"You can\'t sign up for the programme until May," the minister said.'
    assert clean_text(quoted) == quoted
    figures = "Subscribers to our newsletter rose 20 percent, the company said."
    assert clean_text(figures) == figures
    # A caption glued after reporting takes only its own sentence and credit with it.
    glued = "Police said 12 people were hurt. Protesters gather in Baghdad. JOHN DOE/Reuters"
    assert clean_text(glued) == "Police said 12 people were hurt."


def test_the_last_names_of_a_list_are_not_sign_offs() -> None:
    text = "The team named three players to watch.\n\nSmith\nJones\nBrown"
    assert clean_text(text) == text
