"""A visitor is their browser's cookie, not their tab."""
from models.service.visitors import WITHOUT_COOKIE, visitor_id, xsrf_token

# Two answers of one server to one browser: the mask differs, the token inside is the same.
SAME_BROWSER = ["2|f1da4204|6a8f048a71411fcac77f4680ffbc1082|1796134754",
                "2|77134e25|ec4608abf78813eb41b64aa179751ca3|1796134754"]
OTHER_BROWSER = "2|c952e559|33b5d0153fcf9995449c37ad22aa59b0|1796134754"


def test_every_tab_of_one_browser_is_one_visitor():
    assert xsrf_token(SAME_BROWSER[0]) == xsrf_token(SAME_BROWSER[1]) == bytes.fromhex("9b55468e809b5dce36a504840e665286")
    assert visitor_id(SAME_BROWSER[0]) == visitor_id(SAME_BROWSER[1]) != visitor_id(OTHER_BROWSER)
    assert len(visitor_id(OTHER_BROWSER)) == 32 and "9b55468e" not in visitor_id(SAME_BROWSER[0])


def test_clients_without_a_browser_cookie_are_one_visitor_together():
    nameless = {visitor_id(cookie) for cookie in (None, "", "junk", "2|zz|zz|1", "1|00|00|1", "2|00112233|00|1")}
    assert len(nameless) == 1 and nameless != {visitor_id(OTHER_BROWSER)}
    assert xsrf_token(None) is None and WITHOUT_COOKIE


def test_each_visitor_gets_their_own_seed_spaced_by_the_most_seeds_one_submission_may_repeat(monkeypatch):
    """Thirty visitors on seed 0 were one seed to Compare; now each starts on their own."""
    from models.service import visitors
    monkeypatch.setattr(visitors, "_SEEDS", {})
    empty_room = lambda: -1  # noqa: E731
    assert visitors.visitor_seed("a", empty_room, 10) == 0  # the first visitor repeats the stored default
    assert visitors.visitor_seed("b", empty_room, 10) == 10
    assert visitors.visitor_seed("a", empty_room, 10) == 0  # a reload keeps it
    monkeypatch.setattr(visitors, "_SEEDS", {})
    assert visitors.visitor_seed("c", lambda: 13, 10) == 20  # past every seed already stored
    assert visitors.visitor_seed("d", lambda: 0, 10) == 30


def test_two_servers_of_one_room_never_hand_two_visitors_the_same_seed(monkeypatch):
    """front.py's servers each keep their own visitors' seeds, over one store: server k of 2 hands
    out only every second multiple, so a room that keeps the defaults still runs a seed each."""
    from models.service import visitors
    own = [{}, {}]  # each server process's own _SEEDS
    stored = [-1]  # the highest seed in the shared store, which visitors' runs raise
    handed = []
    for n in range(12):
        server = n * 7 % 3 % 2  # arrivals at both servers, unevenly
        monkeypatch.setattr(visitors, "_SEEDS", own[server])
        seed = visitors.visitor_seed(f"v{n}", lambda: stored[0], 10, (server, 2))
        assert seed % 20 == server * 10  # this server's own multiples
        handed.append(seed)
        if n % 3 == 0:  # some visitors run at once, raising the store's highest seed
            stored[0] = max(stored[0], seed + 4)
    assert len(set(handed)) == len(handed)
    monkeypatch.setenv("DISTILL_SERVER", "1/2")
    assert visitors.server_slot() == (1, 2)
    for bad in ("2/2", "x", "1/0", "-1/2"):
        monkeypatch.setenv("DISTILL_SERVER", bad)
        assert visitors.server_slot() == (0, 1)
