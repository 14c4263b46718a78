"""The TAPI adapter's translation of TAPI buffers and messages into call events.

Buffers are built twice: with the module's ctypes structures, and independently with
``struct.pack`` from the field list below, typed from the Windows SDK's tapi.h (TAPI 2.2, in
``#pragma pack(1)``). A field out of order in either shows up as a mismatch.
"""

from __future__ import annotations

import ctypes
import dataclasses
import itertools
import struct
import sys
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from desktop_crm.cti import tapi
from desktop_crm.cti.events import FINAL_STATES, CallDirection, CallEvent, CallState
from desktop_crm.cti.tapi import (
    LINE_APPNEWCALL,
    LINE_CALLINFO,
    LINE_CALLSTATE,
    LINECALLINFO,
    LINECALLINFOSTATE_CALLERID,
    LINECALLORIGIN_EXTERNAL,
    LINECALLORIGIN_OUTBOUND,
    LINECALLPARTYID_ADDRESS,
    LINECALLPARTYID_BLOCKED,
    LINECALLPARTYID_NAME,
    LINECALLPARTYID_OUTOFAREA,
    LINECALLPARTYID_UNKNOWN,
    LINECALLSTATE_CONNECTED,
    LINECALLSTATE_DIALING,
    LINECALLSTATE_DIALTONE,
    LINECALLSTATE_DISCONNECTED,
    LINECALLSTATE_IDLE,
    LINECALLSTATE_OFFERING,
    LINECALLSTATE_PROCEEDING,
    LINECALLSTATE_RINGBACK,
    LINEDEVCAPS,
    LINEDISCONNECTMODE_NORMAL,
    LINEDISCONNECTMODE_PICKUP,
    LINEINITIALIZEEXPARAMS,
    LINEMESSAGE,
    STRINGFORMAT_ASCII,
    STRINGFORMAT_UNICODE,
    CallInfo,
    LineMessage,
    PartyId,
    TapiBufferError,
    TapiBufferTooSmall,
    TapiCallTracker,
    TapiLine,
    TapiUnavailable,
    parse_line_call_info,
    parse_line_dev_caps,
    parse_line_message,
)

PTR = ctypes.sizeof(ctypes.c_void_p)

# LINECALLINFO in tapi.h order (TAPI_CURRENT_VERSION 0x00020002); DialParams spelled out.
_SDK_ORDER = """
dwTotalSize dwNeededSize dwUsedSize hLine dwLineDeviceID dwAddressID dwBearerMode dwRate
dwMediaMode dwAppSpecific dwCallID dwRelatedCallID dwCallParamFlags dwCallStates
dwMonitorDigitModes dwMonitorMediaModes
DialParams.dwDialPause DialParams.dwDialSpeed DialParams.dwDigitDuration DialParams.dwWaitForDialtone
dwOrigin dwReason dwCompletionID dwNumOwners dwNumMonitors dwCountryCode dwTrunk
dwCallerIDFlags dwCallerIDSize dwCallerIDOffset dwCallerIDNameSize dwCallerIDNameOffset
dwCalledIDFlags dwCalledIDSize dwCalledIDOffset dwCalledIDNameSize dwCalledIDNameOffset
dwConnectedIDFlags dwConnectedIDSize dwConnectedIDOffset dwConnectedIDNameSize dwConnectedIDNameOffset
dwRedirectionIDFlags dwRedirectionIDSize dwRedirectionIDOffset dwRedirectionIDNameSize dwRedirectionIDNameOffset
dwRedirectingIDFlags dwRedirectingIDSize dwRedirectingIDOffset dwRedirectingIDNameSize dwRedirectingIDNameOffset
dwAppNameSize dwAppNameOffset dwDisplayableAddressSize dwDisplayableAddressOffset
dwCalledPartySize dwCalledPartyOffset dwCommentSize dwCommentOffset dwDisplaySize dwDisplayOffset
dwUserUserInfoSize dwUserUserInfoOffset dwHighLevelCompSize dwHighLevelCompOffset
dwLowLevelCompSize dwLowLevelCompOffset dwChargingInfoSize dwChargingInfoOffset
dwTerminalModesSize dwTerminalModesOffset dwDevSpecificSize dwDevSpecificOffset
dwCallTreatment dwCallDataSize dwCallDataOffset dwSendingFlowspecSize dwSendingFlowspecOffset
dwReceivingFlowspecSize dwReceivingFlowspecOffset
"""
SDK_LINECALLINFO_FIELDS = _SDK_ORDER.split()

NUMBER = "+4989202044725"
NAME = "Müller GmbH"


def wstr(text: str) -> bytes:
    return text.encode("utf-16-le") + b"\0\0"


def _flatten(struct_type: type[ctypes.Structure]) -> list[str]:
    names: list[str] = []
    for name, ftype, *_ in struct_type._fields_:
        if isinstance(ftype, type) and issubclass(ftype, ctypes.Structure):
            names += [f"{name}.{sub}" for sub in _flatten(ftype)]
        else:
            names.append(name)
    return names


def _get(obj: object, dotted: str) -> int:
    for part in dotted.split("."):
        obj = getattr(obj, part)
    assert isinstance(obj, int)
    return obj


# --- builders ------------------------------------------------------------------------------------


def build_with_struct(
    fields: dict[str, int], strings: dict[str, bytes], *, fixed: int = 324
) -> bytes:
    """LINECALLINFO with struct.pack, in the SDK's order; ``strings`` maps a Size/Offset prefix
    (e.g. ``dwCallerID``, ``dwCallerIDName``) to the bytes to put after the fixed part."""
    values = dict.fromkeys(SDK_LINECALLINFO_FIELDS, 0)
    values.update(fields)
    tail = b""
    for prefix, data in strings.items():
        values[f"{prefix}Size"] = len(data)
        values[f"{prefix}Offset"] = fixed + len(tail)
        tail += data
    total = fixed + len(tail)
    values.update(dwTotalSize=total, dwNeededSize=total, dwUsedSize=total)
    names = SDK_LINECALLINFO_FIELDS[: fixed // 4]
    return struct.pack("<" + "I" * len(names), *(values[n] for n in names)) + tail


def build_with_ctypes(fields: dict[str, int], strings: dict[str, bytes]) -> bytes:
    info = LINECALLINFO()
    for name, value in fields.items():
        setattr(info, name, value)
    fixed = ctypes.sizeof(LINECALLINFO)
    tail = b""
    for prefix, data in strings.items():
        setattr(info, f"{prefix}Size", len(data))
        setattr(info, f"{prefix}Offset", fixed + len(tail))
        tail += data
    info.dwTotalSize = info.dwNeededSize = info.dwUsedSize = fixed + len(tail)
    return bytes(info) + tail


Builder = Callable[[dict[str, int], dict[str, bytes]], bytes]
BUILDERS = pytest.mark.parametrize("build", [build_with_struct, build_with_ctypes])


def offering_fields(**extra: int) -> dict[str, int]:
    fields = {
        "dwCallID": 4711,
        "dwOrigin": LINECALLORIGIN_EXTERNAL,
        "dwCallerIDFlags": LINECALLPARTYID_ADDRESS | LINECALLPARTYID_NAME,
        "dwCalledIDFlags": LINECALLPARTYID_ADDRESS,
        "dwCallStates": 0xFFFF,
    }
    fields.update(extra)
    return fields


def offering_strings() -> dict[str, bytes]:
    return {
        "dwCallerID": wstr(NUMBER),
        "dwCallerIDName": wstr(NAME),
        "dwCalledID": wstr("21"),
    }


# --- layout --------------------------------------------------------------------------------------


def test_linecallinfo_has_the_sdk_fields_in_the_sdk_order() -> None:
    assert _flatten(LINECALLINFO) == SDK_LINECALLINFO_FIELDS


def test_linecallinfo_sizes_and_offsets_match_the_sdk() -> None:
    assert ctypes.sizeof(LINECALLINFO) == 324  # TAPI 2.x; 296 for 1.4, 344 for 3.0
    assert tapi.LINECALLINFO_V1_SIZE == 296
    offsets = {
        "dwCallID": 40,
        "dwCallStates": 52,
        "DialParams": 64,
        "dwOrigin": 80,
        "dwReason": 84,
        "dwCallerIDFlags": 108,
        "dwCallerIDSize": 112,
        "dwCallerIDOffset": 116,
        "dwCallerIDNameSize": 120,
        "dwCallerIDNameOffset": 124,
        "dwCalledIDFlags": 128,
        "dwConnectedIDFlags": 148,
        "dwRedirectionIDFlags": 168,
        "dwRedirectingIDFlags": 188,
        "dwAppNameSize": 208,
        "dwDevSpecificOffset": 292,
        "dwCallTreatment": 296,
        "dwReceivingFlowspecOffset": 320,
    }
    assert {name: getattr(LINECALLINFO, name).offset for name in offsets} == offsets


def test_struct_packed_buffer_reads_back_field_by_field() -> None:
    """Every field gets a different value with struct.pack; ctypes must find each where it is."""
    values = {name: 1000 + i for i, name in enumerate(SDK_LINECALLINFO_FIELDS)}
    raw = struct.pack("<" + "I" * len(values), *values.values())
    info = LINECALLINFO.from_buffer_copy(raw)
    assert {name: _get(info, name) for name in SDK_LINECALLINFO_FIELDS} == values


def test_other_structures_match_the_sdk_layout() -> None:
    assert ctypes.sizeof(LINEDEVCAPS) == 268  # TAPI 2.2 (240 for 1.4, 252 for 2.0)
    assert LINEDEVCAPS.dwPermanentLineID.offset == 28
    assert LINEDEVCAPS.dwLineNameSize.offset == 32
    assert LINEDEVCAPS.dwLineNameOffset.offset == 36
    assert LINEDEVCAPS.dwStringFormat.offset == 40
    assert LINEDEVCAPS.MinDialParams.offset == 156
    assert LINEDEVCAPS.dwLineFeatures.offset == 236
    assert LINEDEVCAPS.PermanentLineGuid.offset == 252
    # hDevice is a DWORD; the four fields after it are DWORD_PTR; pack(1) leaves no padding
    assert ctypes.sizeof(LINEMESSAGE) == 8 + 4 * PTR
    assert LINEMESSAGE.dwCallbackInstance.offset == 8
    assert LINEMESSAGE.dwParam1.offset == 8 + PTR
    assert LINEMESSAGE.dwParam3.offset == 8 + 3 * PTR
    # the union of HANDLEs follows four DWORDs; Windows' own fax service passes 28 on x64
    assert LINEINITIALIZEEXPARAMS.Handles.offset == 16
    assert LINEINITIALIZEEXPARAMS.dwCompletionKey.offset == 16 + PTR
    assert ctypes.sizeof(LINEINITIALIZEEXPARAMS) == 20 + PTR
    assert ctypes.sizeof(tapi.LINEEXTENSIONID) == 16


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("LINE_CALLINFO", 1),
        ("LINE_CALLSTATE", 2),
        ("LINE_CLOSE", 3),
        ("LINE_APPNEWCALL", 23),
        ("LINECALLSTATE_IDLE", 0x1),
        ("LINECALLSTATE_OFFERING", 0x2),
        ("LINECALLSTATE_ACCEPTED", 0x4),
        ("LINECALLSTATE_BUSY", 0x40),
        ("LINECALLSTATE_CONNECTED", 0x100),
        ("LINECALLSTATE_PROCEEDING", 0x200),
        ("LINECALLSTATE_DISCONNECTED", 0x4000),
        ("LINECALLPARTYID_BLOCKED", 0x1),
        ("LINECALLPARTYID_OUTOFAREA", 0x2),
        ("LINECALLPARTYID_NAME", 0x4),
        ("LINECALLPARTYID_ADDRESS", 0x8),
        ("LINECALLPARTYID_PARTIAL", 0x10),
        ("LINECALLPARTYID_UNKNOWN", 0x20),
        ("LINECALLPARTYID_UNAVAIL", 0x40),
        ("LINECALLORIGIN_OUTBOUND", 0x1),
        ("LINECALLORIGIN_INBOUND", 0x80),
        ("LINECALLPRIVILEGE_MONITOR", 0x2),
        ("LINECALLPRIVILEGE_OWNER", 0x4),
        ("LINEINITIALIZEEXOPTION_USEEVENT", 0x2),
        ("LINEDISCONNECTMODE_PICKUP", 0x8),
        ("STRINGFORMAT_UNICODE", 0x3),
        ("TAPI_CURRENT_VERSION", 0x00020002),
    ],
)
def test_constants_have_the_sdk_values(name: str, value: int) -> None:
    assert getattr(tapi, name) == value


# --- LINECALLINFO parsing ------------------------------------------------------------------------


@BUILDERS
def test_offering_with_caller_id_and_name(build: Builder) -> None:
    info = parse_line_call_info(build(offering_fields(), offering_strings()))
    assert info.call_id == 4711
    assert info.caller == PartyId(LINECALLPARTYID_ADDRESS | LINECALLPARTYID_NAME, NUMBER, NAME)
    assert info.called.number == "21"
    assert info.direction is CallDirection.INBOUND
    assert info.call_states == 0xFFFF


def test_both_builders_make_the_same_bytes() -> None:
    assert build_with_struct(offering_fields(), offering_strings()) == build_with_ctypes(
        offering_fields(), offering_strings()
    )


@BUILDERS
def test_blocked_caller_id(build: Builder) -> None:
    raw = build(offering_fields(dwCallerIDFlags=LINECALLPARTYID_BLOCKED), {})
    caller = parse_line_call_info(raw).caller
    assert caller.blocked and caller.number is None and caller.name == ""


@BUILDERS
def test_out_of_area(build: Builder) -> None:
    raw = build(offering_fields(dwCallerIDFlags=LINECALLPARTYID_OUTOFAREA), {})
    caller = parse_line_call_info(raw).caller
    assert caller.out_of_area and not caller.blocked and caller.number is None


@BUILDERS
def test_number_without_name(build: Builder) -> None:
    raw = build(
        offering_fields(dwCallerIDFlags=LINECALLPARTYID_ADDRESS), {"dwCallerID": wstr(NUMBER)}
    )
    assert parse_line_call_info(raw).caller == PartyId(LINECALLPARTYID_ADDRESS, NUMBER, "")


def test_string_without_its_flag_is_ignored() -> None:
    """TAPI says the string is valid only with LINECALLPARTYID_ADDRESS / _NAME set."""
    raw = build_with_struct(
        offering_fields(dwCallerIDFlags=LINECALLPARTYID_UNKNOWN), offering_strings()
    )
    assert parse_line_call_info(raw).caller == PartyId(LINECALLPARTYID_UNKNOWN, None, "")


def test_bad_string_of_a_party_without_flags_does_not_matter() -> None:
    raw = bytearray(build_with_struct(offering_fields(), offering_strings()))
    struct.pack_into("<III", raw, LINECALLINFO.dwConnectedIDFlags.offset, 0, 40, 0xFFFFFF00)
    assert parse_line_call_info(bytes(raw)).connected == PartyId()


def test_ascii_string_format() -> None:
    raw = build_with_struct(
        offering_fields(), {"dwCallerID": NUMBER.encode() + b"\0", "dwCallerIDName": b"Acme\0"}
    )
    info = parse_line_call_info(raw, STRINGFORMAT_ASCII)
    assert (info.caller.number, info.caller.name) == (NUMBER, "Acme")


def test_tapi_1_4_fixed_part_is_enough() -> None:
    raw = build_with_struct(offering_fields(), offering_strings(), fixed=296)
    assert parse_line_call_info(raw).caller.number == NUMBER


def test_truncated_buffer_is_an_error() -> None:
    raw = build_with_struct(offering_fields(), offering_strings())
    with pytest.raises(TapiBufferError, match="shorter than its fixed part"):
        parse_line_call_info(raw[:100])


def test_string_past_the_end_is_an_error() -> None:
    raw = bytearray(build_with_struct(offering_fields(), offering_strings()))
    struct.pack_into("<I", raw, LINECALLINFO.dwCallerIDOffset.offset, len(raw) - 4)
    with pytest.raises(TapiBufferError, match="CallerID"):
        parse_line_call_info(bytes(raw))


def test_string_inside_the_fixed_part_is_an_error() -> None:
    raw = bytearray(build_with_struct(offering_fields(), offering_strings()))
    struct.pack_into("<I", raw, LINECALLINFO.dwCallerIDNameOffset.offset, 8)
    with pytest.raises(TapiBufferError, match="CallerIDName"):
        parse_line_call_info(bytes(raw))


def test_used_size_beyond_the_buffer_is_an_error() -> None:
    raw = build_with_struct(offering_fields(), offering_strings())
    with pytest.raises(TapiBufferError):
        parse_line_call_info(raw[:-6])


def test_needed_size_reports_how_much_to_allocate() -> None:
    raw = bytearray(build_with_struct(offering_fields(), {}))
    struct.pack_into("<I", raw, 4, 1024)  # dwNeededSize
    with pytest.raises(TapiBufferTooSmall) as caught:
        parse_line_call_info(bytes(raw))
    assert caught.value.needed == 1024


@settings(max_examples=300, deadline=None)
@given(
    st.lists(st.integers(0, 0xFFFFFFFF), min_size=70, max_size=90),
    st.binary(max_size=64),
)
def test_garbage_never_crashes(words: list[int], tail: bytes) -> None:
    raw = struct.pack(f"<{len(words)}I", *words) + tail
    try:
        info = parse_line_call_info(raw)
    except TapiBufferError:
        return
    assert isinstance(info, CallInfo)


# --- LINEDEVCAPS and LINEMESSAGE -----------------------------------------------------------------


def test_line_name_from_devcaps() -> None:
    caps = LINEDEVCAPS()
    name = wstr("Büro 21")
    caps.dwTotalSize = caps.dwNeededSize = caps.dwUsedSize = ctypes.sizeof(caps) + len(name)
    caps.dwPermanentLineID = 77
    caps.dwLineNameSize = len(name)
    caps.dwLineNameOffset = ctypes.sizeof(caps)
    caps.dwStringFormat = STRINGFORMAT_UNICODE
    parsed = parse_line_dev_caps(bytes(caps) + name)
    assert (parsed.name, parsed.permanent_line_id) == ("Büro 21", 77)
    with pytest.raises(TapiBufferError):
        parse_line_dev_caps(bytes(caps))  # the name lies past the end


def test_line_message_from_bytes() -> None:
    fmt = "<II" + ("Q" if PTR == 8 else "I") * 4
    raw = struct.pack(fmt, 0x10203, LINE_CALLSTATE, 5, LINECALLSTATE_OFFERING, 0, 4)
    assert parse_line_message(raw) == LineMessage(
        0x10203, LINE_CALLSTATE, 5, LINECALLSTATE_OFFERING, 0, 4
    )
    with pytest.raises(TapiBufferError):
        parse_line_message(raw[:10])


# --- call tracking -------------------------------------------------------------------------------

T0 = datetime(2026, 11, 22, 9, 0, tzinfo=UTC)


class Clock:
    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


class Line:
    """A fake line: the call info TAPI would hand out per hCall, and the tracker under test."""

    def __init__(self, infos: dict[int, CallInfo | None], caller_id_wait: float = 2.0) -> None:
        self.infos = infos
        self.fetched: list[int] = []
        self.tracker_events: list[CallEvent] = []
        self.clock = Clock()
        self.tracker = TapiCallTracker("Line 1", clock=self.clock, caller_id_wait=caller_id_wait)

    def fetch(self, hcall: int) -> CallInfo | None:
        self.fetched.append(hcall)
        return self.infos.get(hcall)

    def feed(self, *messages: tuple[int, int, int, int]) -> list[tuple[CallState, str]]:
        events = []
        for hcall, message_id, p1, p2 in messages:
            msg = parse_line_message(bytes(LINEMESSAGE(hcall, message_id, 0, p1, p2, 0)))
            events += self.tracker.handle(msg, self.fetch)
        self.events = events
        self.tracker_events += events
        return [(e.state, e.reason) for e in events]


def state(hcall: int, call_state: int, mode: int = 0) -> tuple[int, int, int, int]:
    return (hcall, LINE_CALLSTATE, call_state, mode)


H = 0x80010203  # hCalls are DWORDs and often have the high bit set


def inbound_info() -> CallInfo:
    return parse_line_call_info(build_with_struct(offering_fields(), offering_strings()))


def test_answered_call_rings_is_answered_and_ends() -> None:
    line = Line({H: inbound_info()})
    states = line.feed((7, LINE_APPNEWCALL, 0, H), state(H, LINECALLSTATE_OFFERING))
    line.clock.advance(5)
    states += line.feed(state(H, LINECALLSTATE_CONNECTED))
    line.clock.advance(60)
    states += line.feed(
        state(H, LINECALLSTATE_DISCONNECTED, LINEDISCONNECTMODE_NORMAL),
        state(H, LINECALLSTATE_IDLE),
    )
    assert states == [
        (CallState.RINGING, ""),
        (CallState.ANSWERED, ""),
        (CallState.ENDED, "normal"),
    ]
    ringing, answered, ended = line.events = line.tracker_events
    assert ringing.call_id == answered.call_id == ended.call_id == "tapi:Line 1:4711"
    assert ringing.source == "tapi:Line 1" and ringing.line == "Line 1"
    assert ringing.remote_number == NUMBER and ringing.remote_display_name == NAME
    assert ringing.direction is CallDirection.INBOUND and not ringing.withheld
    assert ended.started_at == ringing.occurred_at == T0
    assert ended.answered_at == answered.occurred_at == T0 + timedelta(seconds=5)
    assert ended.occurred_at == T0 + timedelta(seconds=65)
    assert line.fetched == [H]  # call info is read once, not on every state
    assert line.tracker.active_calls == 0


def test_caller_gives_up_missed() -> None:
    line = Line({H: inbound_info()})
    states = line.feed(
        state(H, LINECALLSTATE_OFFERING),
        state(H, LINECALLSTATE_DISCONNECTED, LINEDISCONNECTMODE_NORMAL),
        state(H, LINECALLSTATE_IDLE),
    )
    assert states == [(CallState.RINGING, ""), (CallState.MISSED, "normal")]
    assert line.events[-1].remote_number == NUMBER


def test_offering_then_idle_is_missed() -> None:
    line = Line({H: inbound_info()})
    states = line.feed(state(H, LINECALLSTATE_OFFERING), state(H, LINECALLSTATE_IDLE))
    assert states == [(CallState.RINGING, ""), (CallState.MISSED, "")]
    assert line.tracker.active_calls == 0


def test_repeated_states_are_reported_once() -> None:
    line = Line({H: inbound_info()})
    states = line.feed(
        state(H, LINECALLSTATE_OFFERING),
        state(H, LINECALLSTATE_OFFERING),
        state(H, LINECALLSTATE_CONNECTED),
        state(H, LINECALLSTATE_CONNECTED),
        state(H, LINECALLSTATE_DISCONNECTED),
        state(H, LINECALLSTATE_DISCONNECTED),
        state(H, LINECALLSTATE_IDLE),
        state(H, LINECALLSTATE_IDLE),  # after IDLE the handle is gone: nothing new
    )
    assert [s for s, _ in states] == [CallState.RINGING, CallState.ANSWERED, CallState.ENDED]


def test_picked_up_elsewhere() -> None:
    line = Line({H: inbound_info()})
    states = line.feed(
        state(H, LINECALLSTATE_OFFERING),
        state(H, LINECALLSTATE_DISCONNECTED, LINEDISCONNECTMODE_PICKUP),
    )
    assert states[-1] == (CallState.ANSWERED_ELSEWHERE, "picked up elsewhere")


def test_blocked_caller_is_withheld() -> None:
    raw = build_with_struct(offering_fields(dwCallerIDFlags=LINECALLPARTYID_BLOCKED), {})
    line = Line({H: parse_line_call_info(raw)})
    line.feed(state(H, LINECALLSTATE_OFFERING))
    (ringing,) = line.events
    assert ringing.withheld and ringing.remote_number is None


def test_outbound_call() -> None:
    raw = build_with_struct(
        offering_fields(dwOrigin=LINECALLORIGIN_OUTBOUND, dwCallerIDFlags=0),
        {"dwCalledID": wstr(NUMBER)},
    )
    line = Line({H: parse_line_call_info(raw)})
    states = line.feed(
        state(H, LINECALLSTATE_DIALTONE),
        state(H, LINECALLSTATE_DIALING),
        state(H, LINECALLSTATE_PROCEEDING),
        state(H, LINECALLSTATE_RINGBACK),
        state(H, LINECALLSTATE_CONNECTED),
        state(H, LINECALLSTATE_DISCONNECTED, LINEDISCONNECTMODE_NORMAL),
    )
    assert [s for s, _ in states] == [CallState.RINGING, CallState.ANSWERED, CallState.ENDED]
    assert all(e.direction is CallDirection.OUTBOUND for e in line.events)
    assert all(e.remote_number == NUMBER for e in line.events)


def unknown_caller_info() -> CallInfo:
    fields = offering_fields(dwCallID=4712, dwCallerIDFlags=LINECALLPARTYID_UNKNOWN)
    raw = build_with_struct(fields, {})
    return parse_line_call_info(raw)


def test_ringing_waits_for_a_caller_id_that_comes_later() -> None:
    """A modem offers the call at the first ring and reads the CLIP data a moment later."""
    line = Line({H: unknown_caller_info()})
    assert line.feed(state(H, LINECALLSTATE_OFFERING)) == []
    line.clock.advance(1.5)
    line.infos[H] = inbound_info()
    assert line.feed((H, LINE_CALLINFO, LINECALLINFOSTATE_CALLERID, 0)) == [(CallState.RINGING, "")]
    (ringing,) = line.events
    assert ringing.remote_number == NUMBER and ringing.remote_display_name == NAME
    assert ringing.started_at == T0  # it rang since the offer
    assert ringing.occurred_at == T0 + timedelta(seconds=1.5)
    assert line.tracker.tick() == []


def test_ringing_without_caller_id_once_the_wait_is_over() -> None:
    line = Line({H: unknown_caller_info()})
    line.feed(state(H, LINECALLSTATE_OFFERING), state(H, LINECALLSTATE_OFFERING))
    line.clock.advance(1.9)
    assert line.tracker.tick() == []
    line.clock.advance(0.1)
    (ringing,) = line.tracker.tick()
    assert ringing.state is CallState.RINGING and ringing.remote_number is None
    assert line.tracker.tick() == []
    assert line.feed(state(H, LINECALLSTATE_IDLE)) == [(CallState.MISSED, "")]


def test_a_waiting_call_that_moves_on_did_ring() -> None:
    line = Line({H: unknown_caller_info()})
    states = line.feed(
        state(H, LINECALLSTATE_OFFERING),
        state(H, LINECALLSTATE_DISCONNECTED, LINEDISCONNECTMODE_NORMAL),
    )
    assert states == [(CallState.RINGING, ""), (CallState.MISSED, "normal")]


def test_caller_id_that_arrives_after_ringing_is_on_the_later_events() -> None:
    line = Line({H: unknown_caller_info()}, caller_id_wait=0)
    line.feed(state(H, LINECALLSTATE_OFFERING))
    assert line.events[0].remote_number is None
    line.infos[H] = inbound_info()
    line.feed(
        (H, LINE_CALLINFO, LINECALLINFOSTATE_CALLERID, 0),
        state(H, LINECALLSTATE_DISCONNECTED),
    )
    assert [(e.state, e.remote_number) for e in line.events] == [(CallState.MISSED, NUMBER)]


def test_without_call_info_the_handle_names_the_call() -> None:
    line = Line({})
    line.feed(state(H, LINECALLSTATE_OFFERING), state(H, LINECALLSTATE_IDLE))
    first_seen = int(T0.timestamp() * 1000)
    assert {e.call_id for e in line.events} == {f"tapi:Line 1:hcall-0x80010203-{first_seen}"}
    assert line.events[0].direction is CallDirection.INBOUND


def test_calls_are_tracked_apart() -> None:
    line = Line({1: inbound_info(), 2: None})
    states = line.feed(
        state(1, LINECALLSTATE_OFFERING),
        state(2, LINECALLSTATE_OFFERING),
        state(1, LINECALLSTATE_CONNECTED),
        state(2, LINECALLSTATE_IDLE),
    )
    assert [s for s, _ in states] == [
        CallState.RINGING,
        CallState.RINGING,
        CallState.ANSWERED,
        CallState.MISSED,
    ]
    assert line.tracker.active_calls == 1


# --- the live adapter ----------------------------------------------------------------------------


@pytest.mark.skipif(sys.platform == "win32", reason="checks the message on other systems")
def test_start_says_tapi_is_windows_only() -> None:
    line = TapiLine("Line 1")
    assert line.name == "tapi:Line 1"
    with pytest.raises(TapiUnavailable) as caught:
        line.start(lambda event: None)
    assert str(caught.value) == (
        "TAPI is available on Windows only; on this system use the SIP user agent or the simulator"
    )
    line.stop()  # stopping a line that never started is harmless


def test_worker_backs_off_after_failures_and_stops_within_a_second(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The Windows session is replaced by one that fails: the loop retries and still stops."""
    line = TapiLine("Line 1")
    attempts = threading.Event()

    def failing_session(sink: object) -> None:
        attempts.set()
        raise tapi.TapiError("LINEERR_NODEVICE")

    monkeypatch.setattr(line, "_session", failing_session)
    worker = threading.Thread(target=line._run, args=(lambda event: None,))
    worker.start()
    assert attempts.wait(2)
    started = time.monotonic()
    line._stop.set()
    worker.join(1.0)
    assert not worker.is_alive()
    assert time.monotonic() - started < 1.0


ALL_STATES = [1 << bit for bit in range(16)]


@settings(max_examples=200, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.sampled_from([1, 2, 3]),
            st.sampled_from(ALL_STATES),
            st.sampled_from([0, LINEDISCONNECTMODE_NORMAL, LINEDISCONNECTMODE_PICKUP]),
            st.booleans(),
        ),
        max_size=40,
    )
)
def test_any_sequence_reports_each_state_once_and_nothing_after_the_end(
    steps: list[tuple[int, int, int, bool]],
) -> None:
    line = Line({1: inbound_info(), 2: unknown_caller_info(), 3: None})
    fresh_ids = itertools.count(1)
    fetch = line.fetch

    def fetch_new_call(hcall: int) -> CallInfo | None:  # TAPI reuses handles, not call ids
        info = fetch(hcall)
        return info and dataclasses.replace(info, call_id=next(fresh_ids))

    line.fetch = fetch_new_call  # type: ignore[method-assign]
    events: list[CallEvent] = []
    for hcall, call_state, mode, tick in steps:
        line.clock.advance(0.001)
        line.feed(state(hcall, call_state, mode))
        events += line.events
        if tick:
            line.clock.advance(1)
            events += line.tracker.tick()
    by_call: dict[str, list[CallState]] = {}
    for event in events:
        by_call.setdefault(event.call_id, []).append(event.state)
    for states in by_call.values():
        assert len(states) == len(set(states))
        finals = [s for s in states if s in FINAL_STATES]
        assert len(finals) <= 1
        if finals:
            assert states[-1] == finals[0]


def test_events_name_the_adapter_as_source_and_the_provider_line_as_line() -> None:
    tracker = TapiCallTracker("Büro 21", source="tapi:0")
    (ringing,) = tracker.handle(
        LineMessage(H, LINE_CALLSTATE, 0, LINECALLSTATE_OFFERING), lambda hcall: inbound_info()
    )
    assert (ringing.source, ringing.line) == ("tapi:0", "Büro 21")
    assert ringing.call_id == "tapi:Büro 21:4711"
