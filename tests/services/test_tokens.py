"""Short codes (the reference and the check-in code): the alphabet, the length, no bias."""

from collections import Counter

from eventapp.services import links


def test_codes_use_only_the_unambiguous_alphabet_at_the_asked_length():
    codes = [links.new_code(10) for _ in range(200)]
    assert all(len(code) == 10 for code in codes)
    assert set("".join(codes)) <= set(links.CODE_ALPHABET)
    assert not set("ILOU") & set("".join(codes))
    assert len(set(codes)) == 200


def test_every_letter_is_about_equally_likely():
    """A byte picks a letter by `byte % 32`: fair only because 32 divides 256. 64,000
    letters give each of the 32 an expected 2,000; a letter never seen, or one at 3,000
    (a bias of half again), would fail this many standard deviations out."""
    assert len(links.CODE_ALPHABET) == 32
    counts = Counter("".join(links.new_code(64) for _ in range(1000)))
    assert set(counts) == set(links.CODE_ALPHABET)
    assert max(counts.values()) < 2400 and min(counts.values()) > 1600
