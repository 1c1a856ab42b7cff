"""Links a presenter hands out (models/service/links.py): a page's settings in its address, read
through the config's own checks; anything else is dropped with a reason, and nothing starts."""
from urllib.parse import parse_qsl

import pytest

from models.service.links import (LINKABLE, dropped_sentence, link_query, network_hosts, read_link, room_address,
                                  room_address_choices, room_qr)


def test_a_link_with_every_distill_field_is_read_with_its_types():
    accepted, dropped = read_link("distill", {"student": "mlp-30", "temperature": "4", "alpha": "0.7",
                                              "train_size": "500", "epochs": "20", "seeds": "3",
                                              "controls": "true"})
    assert dropped == []
    assert accepted == {"student": "mlp-30", "temperature": 4.0, "alpha": 0.7, "train_size": 500, "epochs": 20,
                        "seeds": 3, "controls": True}
    assert isinstance(accepted["temperature"], float) and isinstance(accepted["train_size"], int)


@pytest.mark.parametrize("key, value, reason", [
    ("temperature", "500", "temperature T must lie in [0.1, 100], got 500.0"),
    ("temperature", "nan", "not a value it can take"),
    ("alpha", "0.33", "α moves in steps of 0.05 here"),
    ("epochs", "100000", "epochs must be between 1 and 500, got 100000"),
    ("seeds", "11", "seeds must be between 1 and 10, got 11"),
    ("student", "<script>alert(1)</script>", "unknown student"),
    ("student", "x" * 10_000, "longer than any value it can take"),
    ("secret", "hunter2", "not a setting of this page"),
    ("train_size", "ten", "not a value it can take"),
])
def test_a_bad_parameter_is_dropped_with_its_reason_and_the_rest_is_kept(key, value, reason):
    accepted, dropped = read_link("distill", {key: value, "student": "mlp-30"} if key != "student" else {key: value})
    assert key not in accepted and len(dropped) == 1 and reason in dropped[0]
    assert dropped[0].startswith(key[:20])
    assert len(dropped_sentence(dropped)) < 300  # one sentence, however long the value was


def test_a_link_never_carries_a_seed_so_a_room_opening_one_slide_link_keeps_its_own_seeds():
    accepted, dropped = read_link("distill", {"seed": "130", "seeds": "3"})
    assert accepted == {"seeds": 3} and dropped == ["seed (each visitor keeps their own seed, so the room's runs "
                                                    "add up to a verdict)"]
    assert "seed=" not in link_query("distill", {"seed": 130, "seeds": 3, "epochs": 20})


def test_pages_that_read_no_link_read_nothing_and_the_facilitator_is_one_of_them():
    assert "facilitator" not in LINKABLE
    accepted, dropped = read_link("facilitator", {"epochs": "1", "budget_minutes": "0"})
    assert accepted == {} and len(dropped) == 2


def test_a_shared_link_reads_back_as_the_settings_it_was_made_from():
    values = {"student": "mlp-300", "temperature": 2.5, "alpha": 0.9, "train_size": 2000, "epochs": 50,
              "seeds": 1, "controls": False, "run_name": "not shared"}
    query = link_query("distill", values)
    assert query.startswith("?student=mlp-300&temperature=2.5") and "run_name" not in query
    accepted, dropped = read_link("distill", dict(parse_qsl(query[1:])))
    assert dropped == [] and accepted == {k: v for k, v in values.items() if k != "run_name"}
    assert read_link("soft_targets", {"digit": "4", "temperature": "20"}) == ({"digit": 4, "temperature": 20.0}, [])
    assert read_link("soft_targets", {"temperature": "20.3"})[1]  # not on the slider's steps


def test_a_presenter_on_localhost_gets_the_laptops_network_addresses_for_the_room():
    hosts = ["192.168.1.20", "10.0.0.3"]
    assert room_address_choices("http://localhost:8501/facilitator", hosts) == ["http://192.168.1.20:8501/",
                                                                               "http://10.0.0.3:8501/"]
    assert room_address_choices("http://127.0.0.1:8600/", hosts)[0] == "http://192.168.1.20:8600/"
    assert room_address_choices("http://192.168.1.20:8501/x", ["10.0.0.3"]) == ["http://192.168.1.20:8501/"]
    assert room_address_choices("http://localhost:8501/", []) == ["http://localhost:8501/"]  # no network: say so
    assert room_address_choices(None, hosts) == []
    assert all(not host.startswith("127.") and host != "localhost" for host in network_hosts())


def test_the_rooms_qr_code_is_drawn_here_from_the_address():
    assert room_address("http://10.0.0.5:8501/distill?x=1") == "http://10.0.0.5:8501/"
    assert room_address(None) == "" and room_address("javascript:alert(1)") == ""
    png, problem = room_qr("http://10.0.0.5:8501/")
    assert problem is None and png.startswith(b"\x89PNG") and len(png) > 200
    other, _ = room_qr("http://10.0.0.6:8501/")
    assert other != png  # the picture encodes the address
    assert room_qr("not an address") == (None, "Type the address as http://HOST:PORT/ to draw its QR code.")
