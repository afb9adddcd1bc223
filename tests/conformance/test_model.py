"""Hypothesis: random sequences of acquire / release / derive / own
operations over every request kind, checked step by step against a tiny
reference model of §3 (mode + count, sticky mode, exact releases; §3.1 and
§3.2 tables from _support).  Kept short on purpose: a full
RuleBasedStateMachine is a separate piece of work."""

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import bufferflags as bf

from ._support import is_released
from ._support import (ALLOWED, REFUSED, REQUESTS, RO, TABLE_3_2,
                       assert_fresh, expected_cell, mode_of)
from .conftest import BACKEND

START = b"model-data"


class Model:
    """§3 as a reference: one mode and one count; exports are counted once,
    whatever number of memoryviews share them."""

    def __init__(self):
        self.mode, self.count, self.data = "FREE", 0, bytearray(START)

    def request(self, kind):
        cell = expected_cell(self.mode, kind)
        if cell == REFUSED:
            return None
        readonly, new_mode = cell
        self.mode, self.count = new_mode, self.count + 1
        return readonly == RO

    def release(self):
        self.count -= 1
        if self.count == 0:
            self.mode = "FREE"

    def own(self, category):
        return TABLE_3_2[self.mode][category] == ALLOWED


steps = st.lists(st.one_of(
    st.tuples(st.just("acquire"), st.sampled_from(
        [(k, f) for k, fl in REQUESTS.items() for f in fl])),
    st.tuples(st.just("view"), st.sampled_from(
        [("immutable", {"immutable": True}), ("exclusive_read", {"exclusive": True}),
         ("exclusive_write", {"exclusive": True, "writable": True}),
         ("writable", {"writable": True})])),
    st.tuples(st.just("release"), st.integers(0, 7)),
    st.tuples(st.just("release-again"), st.integers(0, 7)),
    st.tuples(st.just("derive"), st.integers(0, 7)),
    st.tuples(st.just("drop"), st.integers(0, 7)),
    st.tuples(st.just("own"), st.sampled_from(["read", "write", "resize", "len"])),
    st.tuples(st.just("write-through"), st.integers(0, 7)),
), max_size=25)


@settings(max_examples=100, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(locked_index=st.integers(0, len(BACKEND.locked_types) - 1), ops=steps)
def test_random_sequences_follow_the_model(locked_index, ops):
    obj = BACKEND.locked_types[locked_index](START)
    model = Model()
    handles = []            # [memoryview, export_id]
    live = {}               # export_id -> number of unreleased handles
    next_id = 0

    for op, arg in ops:
        if op in ("acquire", "view"):
            kind, how = arg
            expected_ro = model.request(kind)
            try:
                mv = bf.acquire(obj, how) if op == "acquire" else bf.view(obj, **how)
            except BufferError:
                assert expected_ro is None, (op, arg, model.mode)
                continue
            assert expected_ro is not None, (op, arg, model.mode)
            assert mv.readonly is expected_ro, (op, arg, model.mode)
            assert mv.tobytes() == bytes(model.data)
            handles.append([mv, next_id])
            live[next_id] = 1
            next_id += 1
        elif op in ("release", "release-again", "drop") and handles:
            h = handles[arg % len(handles)]
            mv, eid = h
            released_before = is_released(mv)
            if op == "drop":
                handles.remove(h)
                del mv, h          # dropped: refcounting releases it at once
            else:
                mv.release()
                if op == "release":
                    handles.remove(h)
            if not released_before:
                live[eid] -= 1
                if live[eid] == 0:
                    model.release()
        elif op == "derive" and handles:
            mv, eid = handles[arg % len(handles)]
            if not is_released(mv):
                handles.append([mv[1:], eid])
                live[eid] += 1
        elif op == "write-through" and handles:
            mv, eid = handles[arg % len(handles)]
            if not is_released(mv) and not mv.readonly and len(mv):
                mv[0] = (mv[0] + 1) % 256
                off = len(model.data) - len(mv)     # derived views are suffixes
                model.data[off] = mv[0]
        elif op == "own":
            allowed = model.own(arg)
            try:
                if arg == "read":
                    got = bytes(obj.upper())
                    assert got == bytes(model.data).upper()
                elif arg == "write":
                    obj[0] = (model.data[0] + 1) % 256
                    model.data[0] = (model.data[0] + 1) % 256
                elif arg == "resize":
                    obj.append(33)
                    model.data.append(33)
                else:
                    assert len(obj) == len(model.data)
            except BufferError:
                assert not allowed, (arg, model.mode)
            else:
                assert allowed, (arg, model.mode)
        # after every step: the observable mode is the model's
        assert mode_of(obj) == model.mode, (op, arg)
    for mv, _ in handles:
        mv.release()
    assert_fresh(obj, bytes(model.data))


