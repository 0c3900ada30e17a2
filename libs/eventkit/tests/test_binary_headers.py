"""Reading a binary-mode record: the headers the relay writes are read by their positions, and every other layout
the general way; both give the same envelope, or the same reason to refuse the record."""

from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from metrology.eventkit import EventContext
from metrology.eventkit.envelope import Envelope
from metrology.testkit.sample_events import ThingCounted

TRACEPARENT = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"


def written(actor: str | None = "inspector", thing: str = "scales") -> tuple[list[tuple[str, bytes]], bytes]:
    """The headers and value the relay publishes for one event (with a causation and a trace; an actor if given)."""
    context = EventContext(tenant="83", causation_id="c-1", traceparent=TRACEPARENT, actor=actor)
    envelope = Envelope.wrap(
        ThingCounted(occurred_on=date(2025, 2, 28), thing=thing, amount=3),
        source="/metrology/test",
        stream_id=f"thing-{thing}",
        stream_version=7,
        context=context,
    )
    _, value, headers = envelope.to_kafka()
    return headers, value


def outcome(read, headers, value):
    """What reading gives: the envelope, or the kind of error and its reason."""
    try:
        return read(headers, value)
    except Exception as error:  # the comparison is of the error's kind and reason
        return type(error).__name__, str(error)


def both_readings(headers, value):
    return outcome(Envelope.from_kafka, headers, value), outcome(Envelope._from_any_headers, headers, value)


EXTRA_HEADERS = st.sampled_from(
    [
        ("ce_partitionkey", b"thing-scales"),  # an extension this platform does not read
        ("x-forwarded-by", b"bridge"),  # not a CloudEvents header at all
        ("CE_TENANT", b"84"),  # a header name in capitals: the general reading lowers it
        ("ce_tenant", b"85"),  # a header twice: the last one wins
        ("ce_subject", b""),  # an optional attribute given empty
        ("ce_tenant", b""),  # a required attribute given empty
        ("ce_streamversion", b"seven"),
        ("ce_time", b"yesterday"),
        ("ce_specversion", b"0.3"),
        ("ce_actor", b"\xff\xfe"),  # not UTF-8
        ("ce_subject", None),  # a header without a value
    ]
)


@given(
    order=st.permutations(range(15)),
    dropped=st.sets(st.integers(0, 14), max_size=3),
    extra=st.lists(EXTRA_HEADERS, max_size=2),
    actor=st.none() | st.just("inspector"),
)
def test_any_layout_of_headers_reads_as_the_general_reading_reads_it(order, dropped, extra, actor):
    headers, value = written(actor)
    laid_out = [headers[i] for i in order if i < len(headers) and i not in dropped] + extra

    fast, general = both_readings(laid_out, value)

    assert fast == general


def test_the_relay_s_headers_in_two_layouts_are_each_read_by_their_own_positions():
    with_actor, without_actor = written("inspector", "scales"), written(None, "meters")
    reversed_headers = list(reversed(with_actor[0]))
    for headers, value in [with_actor, without_actor, (reversed_headers, with_actor[1]), without_actor, with_actor]:
        envelope = Envelope.from_kafka(headers, value)
        assert envelope == Envelope._from_any_headers(headers, value)
        assert envelope.stream_id == ("thing-scales" if value == with_actor[1] else "thing-meters")
    assert Envelope.from_kafka(*with_actor).actor == "inspector"
    assert Envelope.from_kafka(*without_actor).actor is None


@pytest.mark.parametrize("name", ["ce_tenant", "ce_actor", "ce_partitionkey"])
def test_a_header_without_a_value_is_a_reason_to_refuse_the_record_not_a_crash(name):
    headers, value = written()
    headers = [(n, v) for n, v in headers if n != name] + [(name, None)]

    with pytest.raises(ValueError, match=f"header '{name}' has no value"):
        Envelope.from_kafka(headers, value)


def test_an_empty_required_attribute_is_refused_with_the_general_reason():
    headers, value = written()
    headers = [(n, b"" if n == "ce_tenant" else v) for n, v in headers]

    with pytest.raises(ValueError, match="attribute 'tenant' must be a non-empty string"):
        Envelope.from_kafka(headers, value)


def test_data_that_is_not_a_json_object_is_refused_whatever_the_headers():
    headers, _ = written()

    with pytest.raises(ValueError, match="event data must be a JSON object"):
        Envelope.from_kafka(headers, b"[1, 2]")
    with pytest.raises(ValueError, match="event data is not JSON"):
        Envelope.from_kafka(headers, b"{broken")


@pytest.mark.parametrize(
    "reshape",
    [
        lambda name, value: [name, value],  # pairs as lists
        lambda name, value: (name, bytearray(value)),  # values that are not bytes
        lambda name, value: (name, value.decode()),  # values already text
        lambda name, value: (name,),  # not pairs
        lambda name, value: (name, value, b"more"),  # more than pairs
    ],
    ids=["lists", "bytearrays", "text", "singles", "triples"],
)
def test_headers_of_another_shape_read_as_the_general_reading_reads_them(reshape):
    headers, value = written()
    for reshaped in ([reshape(*pair) for pair in headers], [*headers[:-1], reshape(*headers[-1])]):
        fast, general = both_readings(reshaped, value)

        assert fast == general
