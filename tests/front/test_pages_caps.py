"""Under a facilitator's caps, every capped form starts inside them and says so: the defaults (and a
slide link) are accepted on the first press, never refused."""
import pytest

from models.service.room import RoomLimits, set_room_limits
from models.service.store import RunStore
from tests.front.pages import open_page

CAPS = RoomLimits(epochs=3, train_size=400)
SENTENCE = "Capped by the facilitator at 3 epochs and 400 training images for this room"


@pytest.fixture
def capped(app):
    set_room_limits(RunStore(), CAPS)
    yield app
    set_room_limits(RunStore(), RoomLimits())


def _queued(kind: str):
    return [run.config for run in RunStore().list(kind=kind)]


def test_the_distil_defaults_start_inside_the_caps_and_are_accepted(capped):
    at = open_page(capped, "distill")
    assert any(info.value.startswith(SENTENCE) for info in at.info)
    assert at.number_input(key="epochs").value == 3 and at.number_input(key="train_size").value == 400
    at.button(key="distill_submit").click().run()
    assert not at.error, [e.value for e in at.error]
    assert [(c.epochs, c.train_size) for c in _queued("distill")] == [(3, 400)]


def test_a_slide_link_asking_for_more_than_the_caps_starts_inside_them(capped):
    capped.switch_page("lessons/distill.py")
    capped.query_params["epochs"], capped.query_params["train_size"] = "50", "2000"
    at = capped.run()
    assert at.number_input(key="epochs").value == 3 and at.number_input(key="train_size").value == 400


def test_the_sweep_and_the_teacher_start_inside_the_caps(capped):
    at = open_page(capped, "sweep")
    assert at.number_input(key="sweep_epochs").value == 3 and at.number_input(key="sweep_train_size").value == 400
    at.button(key="sweep_submit").click().run()
    assert not at.error, [e.value for e in at.error]
    assert {(c.epochs, c.train_size) for c in _queued("sweep_cell")} == {(3, 400)}
    at = open_page(capped, "teacher")
    assert any(info.value.startswith(SENTENCE) for info in at.info)
    at.button(key="teacher_submit").click().run()
    assert not at.error, [e.value for e in at.error]
    assert _queued("teacher")[0].train_size == 400  # all images, brought inside the cap as the page said
