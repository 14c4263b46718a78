"""The Windows TAPI 2.x line adapter (issue 4).

TAPI is the way many PBXs (and every modem with caller id) tell a Windows desktop about calls:
the CRM opens a line with *monitor* privilege, so it sees calls without ever owning them, and
turns the line's call states into :class:`~desktop_crm.cti.events.CallEvent` values.

Almost all of the logic is pure and runs anywhere: the ctypes structures laid out exactly as the
Windows SDK's ``tapi.h`` declares them (it wraps every declaration in ``#pragma pack(1)``),
:func:`parse_line_call_info` and :func:`parse_line_dev_caps`, which read the variable-length
parts of TAPI's self-describing buffers with bounds checks, and :class:`TapiCallTracker`, which
turns ``LINE_CALLSTATE``/``LINE_CALLINFO`` messages into events. Only :class:`TapiLine`'s worker
thread touches ``tapi32.dll``; that path cannot run except on Windows, so it stays small.
"""

from __future__ import annotations

import ctypes
import logging
import random
import sys
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from desktop_crm.cti.events import FINAL_STATES, CallDirection, CallEvent, CallSink, CallState

log = logging.getLogger(__name__)

UNAVAILABLE_MESSAGE = (
    "TAPI is available on Windows only; on this system use the SIP user agent or the simulator"
)

# --- constants, values as in the Windows SDK's tapi.h --------------------------------------------

TAPI_VERSION_1_4 = 0x00010004
TAPI_VERSION_2_0 = 0x00020000
TAPI_VERSION_2_2 = 0x00020002
TAPI_CURRENT_VERSION = TAPI_VERSION_2_2

# line messages (LINEMESSAGE.dwMessageID)
LINE_ADDRESSSTATE = 0
LINE_CALLINFO = 1
LINE_CALLSTATE = 2
LINE_CLOSE = 3
LINE_DEVSPECIFIC = 4
LINE_LINEDEVSTATE = 8
LINE_REPLY = 12
LINE_CREATE = 19
LINE_APPNEWCALL = 23
LINE_REMOVE = 25

LINECALLSTATE_IDLE = 0x00000001
LINECALLSTATE_OFFERING = 0x00000002
LINECALLSTATE_ACCEPTED = 0x00000004
LINECALLSTATE_DIALTONE = 0x00000008
LINECALLSTATE_DIALING = 0x00000010
LINECALLSTATE_RINGBACK = 0x00000020
LINECALLSTATE_BUSY = 0x00000040
LINECALLSTATE_SPECIALINFO = 0x00000080
LINECALLSTATE_CONNECTED = 0x00000100
LINECALLSTATE_PROCEEDING = 0x00000200
LINECALLSTATE_ONHOLD = 0x00000400
LINECALLSTATE_CONFERENCED = 0x00000800
LINECALLSTATE_ONHOLDPENDCONF = 0x00001000
LINECALLSTATE_ONHOLDPENDTRANSFER = 0x00002000
LINECALLSTATE_DISCONNECTED = 0x00004000
LINECALLSTATE_UNKNOWN = 0x00008000

LINECALLPARTYID_BLOCKED = 0x00000001
LINECALLPARTYID_OUTOFAREA = 0x00000002
LINECALLPARTYID_NAME = 0x00000004
LINECALLPARTYID_ADDRESS = 0x00000008
LINECALLPARTYID_PARTIAL = 0x00000010
LINECALLPARTYID_UNKNOWN = 0x00000020
LINECALLPARTYID_UNAVAIL = 0x00000040

LINECALLORIGIN_OUTBOUND = 0x00000001
LINECALLORIGIN_INTERNAL = 0x00000002
LINECALLORIGIN_EXTERNAL = 0x00000004
LINECALLORIGIN_UNKNOWN = 0x00000010
LINECALLORIGIN_UNAVAIL = 0x00000020
LINECALLORIGIN_CONFERENCE = 0x00000040
LINECALLORIGIN_INBOUND = 0x00000080

LINECALLPRIVILEGE_NONE = 0x00000001
LINECALLPRIVILEGE_MONITOR = 0x00000002
LINECALLPRIVILEGE_OWNER = 0x00000004

LINECALLINFOSTATE_ORIGIN = 0x00000100
LINECALLINFOSTATE_CALLID = 0x00000040
LINECALLINFOSTATE_CALLERID = 0x00008000
LINECALLINFOSTATE_CALLEDID = 0x00010000
LINECALLINFOSTATE_CONNECTEDID = 0x00020000

LINEDISCONNECTMODE_NORMAL = 0x00000001
LINEDISCONNECTMODE_UNKNOWN = 0x00000002
LINEDISCONNECTMODE_REJECT = 0x00000004
LINEDISCONNECTMODE_PICKUP = 0x00000008
LINEDISCONNECTMODE_FORWARDED = 0x00000010
LINEDISCONNECTMODE_BUSY = 0x00000020
LINEDISCONNECTMODE_NOANSWER = 0x00000040
LINEDISCONNECTMODE_BADADDRESS = 0x00000080
LINEDISCONNECTMODE_UNREACHABLE = 0x00000100
LINEDISCONNECTMODE_CONGESTION = 0x00000200
LINEDISCONNECTMODE_INCOMPATIBLE = 0x00000400
LINEDISCONNECTMODE_UNAVAIL = 0x00000800
LINEDISCONNECTMODE_NODIALTONE = 0x00001000

LINEDEVSTATE_REINIT = 0x00040000

LINEINITIALIZEEXOPTION_USEHIDDENWINDOW = 0x00000001
LINEINITIALIZEEXOPTION_USEEVENT = 0x00000002
LINEINITIALIZEEXOPTION_USECOMPLETIONPORT = 0x00000003

LINEMEDIAMODE_UNKNOWN = 0x00000002
LINEMEDIAMODE_INTERACTIVEVOICE = 0x00000004

STRINGFORMAT_ASCII = 0x00000001
STRINGFORMAT_DBCS = 0x00000002
STRINGFORMAT_UNICODE = 0x00000003
STRINGFORMAT_BINARY = 0x00000004

LINEERR_OPERATIONFAILED = 0x80000048
LINEERR_STRUCTURETOOSMALL = 0x8000004D
LINEERR_REINIT = 0x80000052

# --- structures, as tapi.h lays them out (#pragma pack(1), DWORD = 32 bits) ---------------------

DWORD = ctypes.c_uint32
DWORD_PTR = ctypes.c_size_t  # ULONG_PTR: 32 bits on Win32, 64 bits on Win64
HANDLE = ctypes.c_void_p


class LINEDIALPARAMS(ctypes.Structure):
    _pack_ = 1
    _fields_ = (
        ("dwDialPause", DWORD),
        ("dwDialSpeed", DWORD),
        ("dwDigitDuration", DWORD),
        ("dwWaitForDialtone", DWORD),
    )


class LINECALLINFO(ctypes.Structure):
    """The fixed part of LINECALLINFO for TAPI 2.0-2.2; strings follow at their offsets."""

    _pack_ = 1
    _fields_ = (
        ("dwTotalSize", DWORD),
        ("dwNeededSize", DWORD),
        ("dwUsedSize", DWORD),
        ("hLine", DWORD),  # HLINE is DECLARE_OPAQUE32, a DWORD even on Win64
        ("dwLineDeviceID", DWORD),
        ("dwAddressID", DWORD),
        ("dwBearerMode", DWORD),
        ("dwRate", DWORD),
        ("dwMediaMode", DWORD),
        ("dwAppSpecific", DWORD),
        ("dwCallID", DWORD),
        ("dwRelatedCallID", DWORD),
        ("dwCallParamFlags", DWORD),
        ("dwCallStates", DWORD),
        ("dwMonitorDigitModes", DWORD),
        ("dwMonitorMediaModes", DWORD),
        ("DialParams", LINEDIALPARAMS),
        ("dwOrigin", DWORD),
        ("dwReason", DWORD),
        ("dwCompletionID", DWORD),
        ("dwNumOwners", DWORD),
        ("dwNumMonitors", DWORD),
        ("dwCountryCode", DWORD),
        ("dwTrunk", DWORD),
        ("dwCallerIDFlags", DWORD),
        ("dwCallerIDSize", DWORD),
        ("dwCallerIDOffset", DWORD),
        ("dwCallerIDNameSize", DWORD),
        ("dwCallerIDNameOffset", DWORD),
        ("dwCalledIDFlags", DWORD),
        ("dwCalledIDSize", DWORD),
        ("dwCalledIDOffset", DWORD),
        ("dwCalledIDNameSize", DWORD),
        ("dwCalledIDNameOffset", DWORD),
        ("dwConnectedIDFlags", DWORD),
        ("dwConnectedIDSize", DWORD),
        ("dwConnectedIDOffset", DWORD),
        ("dwConnectedIDNameSize", DWORD),
        ("dwConnectedIDNameOffset", DWORD),
        ("dwRedirectionIDFlags", DWORD),
        ("dwRedirectionIDSize", DWORD),
        ("dwRedirectionIDOffset", DWORD),
        ("dwRedirectionIDNameSize", DWORD),
        ("dwRedirectionIDNameOffset", DWORD),
        ("dwRedirectingIDFlags", DWORD),
        ("dwRedirectingIDSize", DWORD),
        ("dwRedirectingIDOffset", DWORD),
        ("dwRedirectingIDNameSize", DWORD),
        ("dwRedirectingIDNameOffset", DWORD),
        ("dwAppNameSize", DWORD),
        ("dwAppNameOffset", DWORD),
        ("dwDisplayableAddressSize", DWORD),
        ("dwDisplayableAddressOffset", DWORD),
        ("dwCalledPartySize", DWORD),
        ("dwCalledPartyOffset", DWORD),
        ("dwCommentSize", DWORD),
        ("dwCommentOffset", DWORD),
        ("dwDisplaySize", DWORD),
        ("dwDisplayOffset", DWORD),
        ("dwUserUserInfoSize", DWORD),
        ("dwUserUserInfoOffset", DWORD),
        ("dwHighLevelCompSize", DWORD),
        ("dwHighLevelCompOffset", DWORD),
        ("dwLowLevelCompSize", DWORD),
        ("dwLowLevelCompOffset", DWORD),
        ("dwChargingInfoSize", DWORD),
        ("dwChargingInfoOffset", DWORD),
        ("dwTerminalModesSize", DWORD),
        ("dwTerminalModesOffset", DWORD),
        ("dwDevSpecificSize", DWORD),
        ("dwDevSpecificOffset", DWORD),
        # TAPI 2.0
        ("dwCallTreatment", DWORD),
        ("dwCallDataSize", DWORD),
        ("dwCallDataOffset", DWORD),
        ("dwSendingFlowspecSize", DWORD),
        ("dwSendingFlowspecOffset", DWORD),
        ("dwReceivingFlowspecSize", DWORD),
        ("dwReceivingFlowspecOffset", DWORD),
    )


#: The fixed part a TAPI 1.4 line fills (everything up to dwDevSpecificOffset).
LINECALLINFO_V1_SIZE = LINECALLINFO.dwDevSpecificOffset.offset + 4


class GUID(ctypes.Structure):
    _pack_ = 1
    _fields_ = (
        ("Data1", ctypes.c_uint32),
        ("Data2", ctypes.c_uint16),
        ("Data3", ctypes.c_uint16),
        ("Data4", ctypes.c_uint8 * 8),
    )


class LINEDEVCAPS(ctypes.Structure):
    """LINEDEVCAPS for TAPI 2.2; the line name and provider strings follow at their offsets."""

    _pack_ = 1
    _fields_ = (
        ("dwTotalSize", DWORD),
        ("dwNeededSize", DWORD),
        ("dwUsedSize", DWORD),
        ("dwProviderInfoSize", DWORD),
        ("dwProviderInfoOffset", DWORD),
        ("dwSwitchInfoSize", DWORD),
        ("dwSwitchInfoOffset", DWORD),
        ("dwPermanentLineID", DWORD),
        ("dwLineNameSize", DWORD),
        ("dwLineNameOffset", DWORD),
        ("dwStringFormat", DWORD),
        ("dwAddressModes", DWORD),
        ("dwNumAddresses", DWORD),
        ("dwBearerModes", DWORD),
        ("dwMaxRate", DWORD),
        ("dwMediaModes", DWORD),
        ("dwGenerateToneModes", DWORD),
        ("dwGenerateToneMaxNumFreq", DWORD),
        ("dwGenerateDigitModes", DWORD),
        ("dwMonitorToneMaxNumFreq", DWORD),
        ("dwMonitorToneMaxNumEntries", DWORD),
        ("dwMonitorDigitModes", DWORD),
        ("dwGatherDigitsMinTimeout", DWORD),
        ("dwGatherDigitsMaxTimeout", DWORD),
        ("dwMedCtlDigitMaxListSize", DWORD),
        ("dwMedCtlMediaMaxListSize", DWORD),
        ("dwMedCtlToneMaxListSize", DWORD),
        ("dwMedCtlCallStateMaxListSize", DWORD),
        ("dwDevCapFlags", DWORD),
        ("dwMaxNumActiveCalls", DWORD),
        ("dwAnswerMode", DWORD),
        ("dwRingModes", DWORD),
        ("dwLineStates", DWORD),
        ("dwUUIAcceptSize", DWORD),
        ("dwUUIAnswerSize", DWORD),
        ("dwUUIMakeCallSize", DWORD),
        ("dwUUIDropSize", DWORD),
        ("dwUUISendUserUserInfoSize", DWORD),
        ("dwUUICallInfoSize", DWORD),
        ("MinDialParams", LINEDIALPARAMS),
        ("MaxDialParams", LINEDIALPARAMS),
        ("DefaultDialParams", LINEDIALPARAMS),
        ("dwNumTerminals", DWORD),
        ("dwTerminalCapsSize", DWORD),
        ("dwTerminalCapsOffset", DWORD),
        ("dwTerminalTextEntrySize", DWORD),
        ("dwTerminalTextSize", DWORD),
        ("dwTerminalTextOffset", DWORD),
        ("dwDevSpecificSize", DWORD),
        ("dwDevSpecificOffset", DWORD),
        ("dwLineFeatures", DWORD),  # TAPI 1.4
        ("dwSettableDevStatus", DWORD),  # TAPI 2.0
        ("dwDeviceClassesSize", DWORD),
        ("dwDeviceClassesOffset", DWORD),
        ("PermanentLineGuid", GUID),  # TAPI 2.2
    )


#: The part of LINEDEVCAPS this module reads (up to and including dwStringFormat).
LINEDEVCAPS_HEADER_SIZE = LINEDEVCAPS.dwStringFormat.offset + 4


class LINEEXTENSIONID(ctypes.Structure):
    _pack_ = 1
    _fields_ = (
        ("dwExtensionID0", DWORD),
        ("dwExtensionID1", DWORD),
        ("dwExtensionID2", DWORD),
        ("dwExtensionID3", DWORD),
    )


class _LineInitializeExHandles(ctypes.Union):
    _pack_ = 1
    _fields_ = (("hEvent", HANDLE), ("hCompletionPort", HANDLE))


class LINEINITIALIZEEXPARAMS(ctypes.Structure):
    _pack_ = 1
    _fields_ = (
        ("dwTotalSize", DWORD),
        ("dwNeededSize", DWORD),
        ("dwUsedSize", DWORD),
        ("dwOptions", DWORD),
        ("Handles", _LineInitializeExHandles),
        ("dwCompletionKey", DWORD),
    )


class LINEMESSAGE(ctypes.Structure):
    _pack_ = 1
    _fields_ = (
        ("hDevice", DWORD),  # a DWORD in tapi.h (unlike the DWORD_PTR fields that follow)
        ("dwMessageID", DWORD),
        ("dwCallbackInstance", DWORD_PTR),
        ("dwParam1", DWORD_PTR),
        ("dwParam2", DWORD_PTR),
        ("dwParam3", DWORD_PTR),
    )


# --- errors and parsed values --------------------------------------------------------------------


class TapiError(Exception):
    """A TAPI call failed or TAPI handed over something this module cannot read."""


class TapiUnavailable(TapiError):
    """There is no TAPI on this system."""


class TapiBufferError(TapiError):
    """A TAPI buffer is shorter than the fields and strings it describes."""


class TapiBufferTooSmall(TapiBufferError):
    """TAPI needs a bigger buffer (``dwNeededSize``) to fill in the variable part."""

    def __init__(self, needed: int, total: int) -> None:
        super().__init__(f"TAPI needs {needed} bytes for this structure, the buffer has {total}")
        self.needed = needed


@dataclass(frozen=True)
class PartyId:
    """One party of a call as LINECALLINFO describes it (caller, called or connected)."""

    flags: int = 0
    number: str | None = None
    name: str = ""

    @property
    def blocked(self) -> bool:
        return bool(self.flags & LINECALLPARTYID_BLOCKED)

    @property
    def out_of_area(self) -> bool:
        return bool(self.flags & LINECALLPARTYID_OUTOFAREA)


@dataclass(frozen=True)
class CallInfo:
    """What this module takes from a LINECALLINFO buffer."""

    call_id: int
    origin: int
    caller: PartyId = field(default_factory=PartyId)
    called: PartyId = field(default_factory=PartyId)
    connected: PartyId = field(default_factory=PartyId)
    line_device_id: int = 0
    address_id: int = 0
    related_call_id: int = 0
    reason: int = 0
    call_states: int = 0

    @property
    def direction(self) -> CallDirection | None:
        """``None`` when the line does not say (then the first call state decides)."""
        if self.origin & LINECALLORIGIN_OUTBOUND:
            return CallDirection.OUTBOUND
        if self.origin & (
            LINECALLORIGIN_INBOUND | LINECALLORIGIN_INTERNAL | LINECALLORIGIN_EXTERNAL
        ):
            return CallDirection.INBOUND
        return None


@dataclass(frozen=True)
class LineDevCaps:
    permanent_line_id: int
    name: str
    string_format: int


@dataclass(frozen=True)
class LineMessage:
    """One LINEMESSAGE, as plain integers."""

    device: int
    message_id: int
    callback_instance: int = 0
    param1: int = 0
    param2: int = 0
    param3: int = 0

    @classmethod
    def from_struct(cls, msg: LINEMESSAGE) -> LineMessage:
        return cls(
            int(msg.hDevice),
            int(msg.dwMessageID),
            int(msg.dwCallbackInstance),
            int(msg.dwParam1),
            int(msg.dwParam2),
            int(msg.dwParam3),
        )


# --- buffer parsing ------------------------------------------------------------------------------

_ANSI = "mbcs" if sys.platform == "win32" else "cp1252"


def _read_string(
    buffer: bytes, size: int, offset: int, *, used: int, fixed: int, what: str, fmt: int
) -> str | None:
    """The string at ``offset``; ``None`` when the size is zero. Sizes count bytes and the NUL."""
    if size == 0:
        return None
    if offset < fixed or offset + size > used:
        raise TapiBufferError(
            f"{what}: {size} bytes at offset {offset} lie outside the filled part of the "
            f"buffer ({fixed}..{used})"
        )
    raw = buffer[offset : offset + size]
    if fmt == STRINGFORMAT_UNICODE:
        raw = raw[: len(raw) - len(raw) % 2]
        text = raw.decode("utf-16-le", errors="replace")
    else:
        text = raw.decode(_ANSI if fmt != STRINGFORMAT_BINARY else "latin-1", errors="replace")
    return text.split("\0", 1)[0].strip()


def _check_header(buffer: bytes, minimum: int, what: str) -> tuple[int, int, int]:
    if len(buffer) < minimum:
        raise TapiBufferError(
            f"{what} buffer has {len(buffer)} bytes, shorter than its fixed part ({minimum})"
        )
    total, needed, used = (int.from_bytes(buffer[i : i + 4], "little") for i in (0, 4, 8))
    if needed > total or needed > len(buffer):
        raise TapiBufferTooSmall(needed, min(total, len(buffer)))
    if used > len(buffer) or used < minimum:
        raise TapiBufferError(
            f"{what} says {used} bytes are filled, the buffer has {len(buffer)} "
            f"and the fixed part needs {minimum}"
        )
    return total, needed, used


def parse_line_call_info(buffer: bytes, string_format: int = STRINGFORMAT_UNICODE) -> CallInfo:
    """Read a LINECALLINFO buffer as ``lineGetCallInfoW`` fills it.

    ``string_format`` is the line's ``LINEDEVCAPS.dwStringFormat`` (the W functions hand out
    Unicode). A buffer whose fields or strings point past what it holds raises
    :class:`TapiBufferError`; one that TAPI could not fill completely raises
    :class:`TapiBufferTooSmall` with the size it needs.
    """
    buffer = bytes(buffer)
    _, _, used = _check_header(buffer, LINECALLINFO_V1_SIZE, "LINECALLINFO")
    padded = buffer.ljust(ctypes.sizeof(LINECALLINFO), b"\0")
    info = LINECALLINFO.from_buffer_copy(padded)

    def string(field_prefix: str) -> str:
        return (
            _read_string(
                buffer,
                getattr(info, f"dw{field_prefix}Size"),
                getattr(info, f"dw{field_prefix}Offset"),
                used=used,
                fixed=LINECALLINFO_V1_SIZE,
                what=field_prefix,
                fmt=string_format,
            )
            or ""
        )

    def party(prefix: str) -> PartyId:
        """A string counts only when its flag says so (TAPI leaves the others undefined)."""
        flags = int(getattr(info, f"dw{prefix}Flags"))
        if flags & LINECALLPARTYID_BLOCKED:
            return PartyId(flags, None, "")
        has_number = flags & (LINECALLPARTYID_ADDRESS | LINECALLPARTYID_PARTIAL)
        number = string(prefix) if has_number else ""
        name = string(f"{prefix}Name") if flags & LINECALLPARTYID_NAME else ""
        return PartyId(flags, number or None, name)

    return CallInfo(
        call_id=int(info.dwCallID),
        origin=int(info.dwOrigin),
        caller=party("CallerID"),
        called=party("CalledID"),
        connected=party("ConnectedID"),
        line_device_id=int(info.dwLineDeviceID),
        address_id=int(info.dwAddressID),
        related_call_id=int(info.dwRelatedCallID),
        reason=int(info.dwReason),
        call_states=int(info.dwCallStates),
    )


def parse_line_dev_caps(buffer: bytes) -> LineDevCaps:
    """Read the line name and string format from a LINEDEVCAPS buffer (``lineGetDevCapsW``)."""
    buffer = bytes(buffer)
    _, _, used = _check_header(buffer, LINEDEVCAPS_HEADER_SIZE, "LINEDEVCAPS")
    caps = LINEDEVCAPS.from_buffer_copy(buffer.ljust(ctypes.sizeof(LINEDEVCAPS), b"\0"))
    fmt = int(caps.dwStringFormat) or STRINGFORMAT_UNICODE
    name = _read_string(
        buffer,
        caps.dwLineNameSize,
        caps.dwLineNameOffset,
        used=used,
        fixed=LINEDEVCAPS_HEADER_SIZE,
        what="LineName",
        fmt=fmt,
    )
    return LineDevCaps(int(caps.dwPermanentLineID), name or "", fmt)


def parse_line_message(buffer: bytes) -> LineMessage:
    if len(buffer) < ctypes.sizeof(LINEMESSAGE):
        raise TapiBufferError(
            f"LINEMESSAGE needs {ctypes.sizeof(LINEMESSAGE)} bytes, got {len(buffer)}"
        )
    return LineMessage.from_struct(LINEMESSAGE.from_buffer_copy(bytes(buffer)))


# --- call states to call events ------------------------------------------------------------------

_RINGING_IN = LINECALLSTATE_OFFERING | LINECALLSTATE_ACCEPTED
_RINGING_OUT = LINECALLSTATE_DIALING | LINECALLSTATE_PROCEEDING | LINECALLSTATE_RINGBACK
_OUTBOUND_FIRST = LINECALLSTATE_DIALTONE | _RINGING_OUT
_GONE = LINECALLSTATE_DISCONNECTED | LINECALLSTATE_IDLE

_DISCONNECT_REASONS = {
    LINEDISCONNECTMODE_NORMAL: "normal",
    LINEDISCONNECTMODE_REJECT: "rejected",
    LINEDISCONNECTMODE_PICKUP: "picked up elsewhere",
    LINEDISCONNECTMODE_FORWARDED: "forwarded",
    LINEDISCONNECTMODE_BUSY: "busy",
    LINEDISCONNECTMODE_NOANSWER: "no answer",
    LINEDISCONNECTMODE_BADADDRESS: "bad address",
    LINEDISCONNECTMODE_UNREACHABLE: "unreachable",
    LINEDISCONNECTMODE_CONGESTION: "congestion",
    LINEDISCONNECTMODE_INCOMPATIBLE: "incompatible",
    LINEDISCONNECTMODE_UNAVAIL: "unavailable",
    LINEDISCONNECTMODE_NODIALTONE: "no dial tone",
}


def _utcnow() -> datetime:
    return datetime.now(UTC)


@dataclass
class _Call:
    call_id: str
    direction: CallDirection
    info: CallInfo | None
    emitted: set[CallState] = field(default_factory=set)
    started_at: datetime | None = None
    answered_at: datetime | None = None
    busy: bool = False
    ring_pending_since: datetime | None = None  # offered, waiting for the caller id


#: Caller-id flags after which nothing more about the caller will come.
_CALLER_ID_KNOWN = (
    LINECALLPARTYID_ADDRESS
    | LINECALLPARTYID_PARTIAL
    | LINECALLPARTYID_NAME
    | LINECALLPARTYID_BLOCKED
    | LINECALLPARTYID_OUTOFAREA
    | LINECALLPARTYID_UNAVAIL
)


CallInfoFetcher = Callable[[int], CallInfo | None]
"""Gets the current LINECALLINFO of an hCall (``None`` when TAPI cannot say)."""


class TapiCallTracker:
    """Turns one line's TAPI messages into call events, each state of each call at most once.

    Inbound: OFFERING (or ACCEPTED) → RINGING, CONNECTED → ANSWERED, then DISCONNECTED/IDLE →
    ENDED, or MISSED when nobody answered (ANSWERED_ELSEWHERE when the line says it was picked
    up elsewhere). Outbound calls (``dwOrigin``) ring when dialling starts. Not thread-safe: one
    tracker per line, used by the line's thread.

    Analogue lines (a modem with CLIP) offer the call at the first ring and deliver the caller id
    a second or two later in a ``LINE_CALLINFO``. So while the caller id is still unknown, RINGING
    waits for it up to ``caller_id_wait`` seconds (:meth:`tick` lets the time run out); a
    pop-up for "unknown caller" that changes a second later helps nobody. Lines that offer the
    call with its caller id ring at once.
    """

    def __init__(
        self,
        line: str,
        *,
        source: str | None = None,
        clock: Callable[[], datetime] = _utcnow,
        caller_id_wait: float = 2.0,
    ) -> None:
        self.line = line
        self.source = source or f"tapi:{line}"
        self._clock = clock
        self._caller_id_wait = timedelta(seconds=caller_id_wait)
        self._calls: dict[int, _Call] = {}

    @property
    def active_calls(self) -> int:
        return len(self._calls)

    def handle(self, msg: LineMessage, fetch_info: CallInfoFetcher) -> list[CallEvent]:
        if msg.message_id == LINE_CALLSTATE:
            return self.on_call_state(msg.device, msg.param1, msg.param2, fetch_info)
        if msg.message_id == LINE_CALLINFO and msg.device in self._calls:
            wanted = (
                LINECALLINFOSTATE_CALLERID
                | LINECALLINFOSTATE_CALLEDID
                | LINECALLINFOSTATE_CONNECTEDID
                | LINECALLINFOSTATE_ORIGIN
            )
            if msg.param1 & wanted:
                call = self._calls[msg.device]
                info = fetch_info(msg.device)
                if info is not None:
                    call.info = info
                if call.ring_pending_since is not None and not self._caller_id_pending(call):
                    return self._ring(call)
        return []

    def tick(self) -> list[CallEvent]:
        """RINGING for calls whose caller id did not come in time; call this now and then."""
        now = self._clock()
        events: list[CallEvent] = []
        for call in list(self._calls.values()):
            since = call.ring_pending_since
            if since is not None and now - since >= self._caller_id_wait:
                events += self._ring(call)
        return events

    def on_call_state(
        self, hcall: int, state: int, mode: int, fetch_info: CallInfoFetcher
    ) -> list[CallEvent]:
        call = self._calls.get(hcall)
        if call is None:
            if state & _GONE:
                return []  # a call we never saw ringing, or a repeat after IDLE
            info = fetch_info(hcall)
            call = self._new_call(hcall, state, info)
            self._calls[hcall] = call
        events: list[CallEvent] = []
        if state & _RINGING_IN and self._caller_id_pending(call):
            if call.ring_pending_since is None and CallState.RINGING not in call.emitted:
                call.ring_pending_since = self._clock()
            return []
        if call.ring_pending_since is not None:  # the call moves on: it did ring
            events += self._ring(call)
        if state & (_RINGING_IN | _RINGING_OUT):
            events += self._emit(call, CallState.RINGING)
        elif state & LINECALLSTATE_BUSY:
            call.busy = True
        elif state & LINECALLSTATE_CONNECTED:
            events += self._emit(call, CallState.ANSWERED)
        elif state & _GONE:
            if state & LINECALLSTATE_IDLE:
                del self._calls[hcall]
            reason = _DISCONNECT_REASONS.get(mode, "") if state & LINECALLSTATE_DISCONNECTED else ""
            if call.busy and not reason:
                reason = "busy"
            if CallState.ANSWERED in call.emitted:
                events += self._emit(call, CallState.ENDED, reason)
            elif mode == LINEDISCONNECTMODE_PICKUP and state & LINECALLSTATE_DISCONNECTED:
                events += self._emit(call, CallState.ANSWERED_ELSEWHERE, reason)
            else:
                events += self._emit(call, CallState.MISSED, reason)
        return events

    def _caller_id_pending(self, call: _Call) -> bool:
        if not self._caller_id_wait or call.direction is not CallDirection.INBOUND:
            return False
        if call.info is None:  # TAPI would not say; waiting will not change that
            return False
        return not call.info.caller.flags & _CALLER_ID_KNOWN

    def _ring(self, call: _Call) -> list[CallEvent]:
        since, call.ring_pending_since = call.ring_pending_since, None
        return self._emit(call, CallState.RINGING, started_at=since)

    def _new_call(self, hcall: int, state: int, info: CallInfo | None) -> _Call:
        direction = info.direction if info is not None else None
        if direction is None:
            outbound = state & _OUTBOUND_FIRST
            direction = CallDirection.OUTBOUND if outbound else CallDirection.INBOUND
        if info is not None and info.call_id:
            call_id = f"tapi:{self.line}:{info.call_id}"
        else:  # no call id from the provider; TAPI reuses handles, so add when it was first seen
            first_seen = int(self._clock().timestamp() * 1000)
            call_id = f"tapi:{self.line}:hcall-{hcall:#x}-{first_seen}"
        return _Call(call_id=call_id, direction=direction, info=info)

    def _emit(
        self,
        call: _Call,
        state: CallState,
        reason: str = "",
        *,
        started_at: datetime | None = None,
    ) -> list[CallEvent]:
        if state in call.emitted or call.emitted & FINAL_STATES:
            return []
        call.emitted.add(state)
        now = self._clock()
        if state is CallState.RINGING:
            call.started_at = started_at or now
        elif state is CallState.ANSWERED:
            call.answered_at = now
        number: str | None = None
        name = ""
        withheld = False
        info = call.info
        if info is not None:
            if call.direction is CallDirection.OUTBOUND:
                party = info.called if info.called.number else info.connected
            else:
                party = info.caller
            number, name, withheld = party.number, party.name, party.blocked
        return [
            CallEvent(
                call_id=call.call_id,
                state=state,
                source=self.source,
                direction=call.direction,
                remote_number=number,
                remote_display_name=name,
                withheld=withheld,
                line=self.line,
                occurred_at=now,
                started_at=call.started_at,
                answered_at=call.answered_at,
                reason=reason,
            )
        ]


# --- the live adapter ----------------------------------------------------------------------------


class TapiLine:
    """A TAPI line opened with monitor privilege, as a :class:`CallSource`.

    ``line`` is the line's name as the TAPI provider reports it (``LINEDEVCAPS`` line name) or
    its device index. Events carry this adapter's ``name`` (``"tapi:<line>"``) as their source
    and the provider's line name as their ``line``.
    """

    #: how long the worker waits for TAPI's event before it looks at the stop flag again
    POLL_SECONDS = 0.25

    def __init__(self, line: str | int, *, app_name: str = "desktop_crm") -> None:
        self.line = line
        self.name = f"tapi:{line}"
        self.app_name = app_name
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self, sink: CallSink) -> None:
        if sys.platform != "win32":
            raise TapiUnavailable(UNAVAILABLE_MESSAGE)
        if self._thread is not None:
            raise RuntimeError(f"{self.name} is already running")
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, args=(sink,), name=self.name, daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=1.0)
            self._thread = None

    def _run(self, sink: CallSink) -> None:
        """Keep the line open; after a failure, back off exponentially (with jitter) and retry."""
        delay = 1.0
        while not self._stop.is_set():
            try:
                self._session(sink)
                delay = 1.0
            except (TapiError, OSError) as exc:
                log.warning("%s: %s; retrying in %.0f s", self.name, exc, delay)
            except Exception:  # a bug must not end the listener for good
                log.exception("%s: unexpected error; retrying in %.0f s", self.name, delay)
            if self._stop.wait(delay * random.uniform(0.8, 1.2)):
                break
            delay = min(delay * 2, 60.0)

    if sys.platform == "win32":

        def _session(self, sink: CallSink) -> None:
            """One lineInitializeEx … lineShutdown cycle; returns on stop, raises on failure."""
            tapi = ctypes.WinDLL("tapi32")
            kernel32 = ctypes.WinDLL("kernel32")
            kernel32.WaitForSingleObject.restype = DWORD
            kernel32.WaitForSingleObject.argtypes = (HANDLE, DWORD)
            tapi.lineInitializeExW.argtypes = (
                ctypes.POINTER(DWORD), HANDLE, ctypes.c_void_p, ctypes.c_wchar_p,
                ctypes.POINTER(DWORD), ctypes.POINTER(DWORD),
                ctypes.POINTER(LINEINITIALIZEEXPARAMS),
            )  # fmt: skip
            tapi.lineGetMessage.argtypes = (DWORD, ctypes.POINTER(LINEMESSAGE), DWORD)
            tapi.lineGetCallInfoW.argtypes = (DWORD, ctypes.c_void_p)
            for handle_only in (tapi.lineDeallocateCall, tapi.lineClose, tapi.lineShutdown):
                handle_only.argtypes = (DWORD,)  # hCall/hLine/hLineApp are DWORDs
            tapi.lineNegotiateAPIVersion.argtypes = (
                DWORD, DWORD, DWORD, DWORD, ctypes.POINTER(DWORD), ctypes.c_void_p,
            )  # fmt: skip
            tapi.lineGetDevCapsW.argtypes = (DWORD, DWORD, DWORD, DWORD, ctypes.c_void_p)
            tapi.lineOpenW.argtypes = (
                DWORD, DWORD, ctypes.POINTER(DWORD), DWORD, DWORD, DWORD_PTR, DWORD, DWORD,
                ctypes.c_void_p,
            )  # fmt: skip

            def check(result: int, what: str) -> None:
                if result != 0:
                    raise TapiError(f"{what} failed with {result & 0xFFFFFFFF:#010x}")

            def grow(call: Callable[[ctypes.Array[ctypes.c_char]], int], what: str) -> bytes:
                size = 4096
                while True:
                    buf = ctypes.create_string_buffer(size)
                    ctypes.c_uint32.from_buffer(buf).value = size  # dwTotalSize
                    check(call(buf), what)
                    needed = int.from_bytes(buf.raw[4:8], "little")
                    if needed <= size:
                        return buf.raw
                    size = needed

            happ = DWORD()
            num_devs = DWORD()
            api_version = DWORD(TAPI_CURRENT_VERSION)
            params = LINEINITIALIZEEXPARAMS()
            params.dwTotalSize = ctypes.sizeof(params)
            params.dwOptions = LINEINITIALIZEEXOPTION_USEEVENT
            check(
                tapi.lineInitializeExW(
                    ctypes.byref(happ), None, None, self.app_name, ctypes.byref(num_devs),
                    ctypes.byref(api_version), ctypes.byref(params),
                ),
                "lineInitializeExW",
            )  # fmt: skip
            hline = DWORD()
            try:
                device, version, caps = self._find_line(tapi, happ, num_devs.value, grow, check)
                tracker = TapiCallTracker(caps.name or str(self.line), source=self.name)
                check(
                    tapi.lineOpenW(
                        happ, device, ctypes.byref(hline), version, 0, 0,
                        LINECALLPRIVILEGE_MONITOR, LINEMEDIAMODE_INTERACTIVEVOICE, None,
                    ),
                    "lineOpenW",
                )  # fmt: skip
                log.info("%s: line %d open (TAPI %#x)", self.name, device, version)

                def fetch(hcall: int) -> CallInfo | None:
                    try:
                        raw = grow(lambda b: tapi.lineGetCallInfoW(hcall, b), "lineGetCallInfoW")
                        return parse_line_call_info(raw, STRINGFORMAT_UNICODE)
                    except TapiError as exc:
                        log.warning("%s: no call info for %#x: %s", self.name, hcall, exc)
                        return None

                msg = LINEMESSAGE()
                while not self._stop.is_set():
                    kernel32.WaitForSingleObject(
                        params.Handles.hEvent, int(self.POLL_SECONDS * 1000)
                    )
                    for event in tracker.tick():
                        sink(event)
                    while (
                        not self._stop.is_set()
                        and tapi.lineGetMessage(happ, ctypes.byref(msg), 0) == 0
                    ):
                        message = LineMessage.from_struct(msg)
                        if message.message_id == LINE_CLOSE or (
                            message.message_id == LINE_LINEDEVSTATE
                            and message.param1 & LINEDEVSTATE_REINIT
                        ):
                            raise TapiError("the line was closed or TAPI asks to re-initialise")
                        for event in tracker.handle(message, fetch):
                            sink(event)
                        if (
                            message.message_id == LINE_CALLSTATE
                            and message.param1 & LINECALLSTATE_IDLE
                        ):
                            tapi.lineDeallocateCall(message.device)
            finally:
                if hline.value:
                    tapi.lineClose(hline)
                tapi.lineShutdown(happ)

        def _find_line(
            self,
            tapi: ctypes.WinDLL,
            happ: ctypes.c_uint32,
            num_devs: int,
            grow: Callable[[Callable[[ctypes.Array[ctypes.c_char]], int], str], bytes],
            check: Callable[[int, str], None],
        ) -> tuple[int, int, LineDevCaps]:
            names = []
            for device in range(num_devs):
                version = DWORD()
                ext = LINEEXTENSIONID()
                if tapi.lineNegotiateAPIVersion(
                    happ, device, TAPI_VERSION_2_0, TAPI_CURRENT_VERSION,
                    ctypes.byref(version), ctypes.byref(ext),
                ):  # fmt: skip
                    continue

                def get_caps(
                    buf: ctypes.Array[ctypes.c_char], dev: int = device, ver: int = version.value
                ) -> int:
                    return int(tapi.lineGetDevCapsW(happ, dev, ver, 0, buf))

                raw = grow(get_caps, "lineGetDevCapsW")
                caps = parse_line_dev_caps(raw)
                names.append(caps.name)
                if self.line == device or self.line == caps.name:
                    return device, version.value, caps
            raise TapiError(f"no TAPI 2.x line called {self.line!r}; lines: {names}")

    else:

        def _session(self, sink: CallSink) -> None:
            raise TapiUnavailable(UNAVAILABLE_MESSAGE)
