"""PSS/E RAW power flow data as a pandapower network (pure; no dynamics engine).

Versions 33 and 34 are read (32, whose records read here are 33's, as 33); the
records used:

* case identification: system base [MVA], version, base frequency [Hz];
* buses: ``BASKV`` [kV], type (3 slack, 2 PV, 1 PQ, 4 isolated: out of service),
  the solved ``VM`` [pu] and ``VA`` [deg] (kept in ``net.bus`` as ``vm_raw_pu`` and
  ``va_raw_degree``); buses are named by their number;
* loads (in service): the constant-power part ``PL``, ``QL`` [MW, Mvar]; the
  constant-current part ``IP``, ``IQ`` as constant power at the file's solved
  voltage (``IP VM``); the constant-admittance part ``YP``, ``YQ`` as a shunt
  (exact);
* fixed shunts and switched shunts (at their initial ``BINIT``) [MW, Mvar at 1 pu];
* generators (in service): a ``gen`` (PV, set point ``VS``; a unit regulating a
  remote bus holds its own bus at the file's solved ``VM``) at type-2 buses, the
  ``ext_grid`` at the type-3 bus (``VS``, the file's angle), a ``sgen`` (PQ) at
  type-1 buses; ``MBASE`` [MVA] as ``sn_mva``, ``PT`` as ``max_p_mw``, ``ZX`` as
  ``xdss_pu``; named ``G<bus>`` (machine id 1) or ``G<bus>_<id>``;
* non-transformer branches: lines (``R``, ``X``, ``B`` pu on the system base, the
  line shunts ``GI``, ``BI``, ``GJ``, ``BJ`` as bus shunts); zero-impedance lines and
  closed system switching devices (version 34): bus-bus switches;
* two-winding transformers: winding ratios (``CW`` 1: pu of the bus base, 2: kV,
  3: pu of ``NOMV``), phase shift ``ANG1``, impedance (``CZ`` 1: pu on the system
  base, 2: pu on the winding base ``SBASE1-2``), magnetising admittance at the
  winding-1 bus (``CM`` 1). ``CZ`` 3 and ``CM`` 2 are refused.

Refused with the record named: three-winding transformers, DC lines, FACTS devices,
GNE devices and induction machines. Ignored: areas, zones, owners, inter-area
transfers, impedance correction tables and multi-section line groupings.
A malformed record raises :class:`RawError` naming the file and line.
"""

from __future__ import annotations

import math
import re
import warnings
from dataclasses import dataclass
from pathlib import Path

import pandapower as pp

from federates.errors import ConfigError

ORDER_33 = (
    "bus",
    "load",
    "fixed shunt",
    "generator",
    "branch",
    "transformer",
    "area",
    "two-terminal dc",
    "vsc dc",
    "impedance correction",
    "multi-terminal dc",
    "multi-section line",
    "zone",
    "inter-area transfer",
    "owner",
    "facts device",
    "switched shunt",
    "gne device",
    "induction machine",
)
ORDER_34 = (*ORDER_33[:5], "system switching device", *ORDER_33[5:], "substation")
REFUSED = ("two-terminal dc", "vsc dc", "multi-terminal dc", "facts device", "gne device")
REFUSED += ("induction machine",)
ZERO_IMPEDANCE_PU = 1e-4  # PSS/E's default zero-impedance line threshold THRSHZ [pu]


class RawError(ConfigError):
    """A RAW file that cannot be read (one line naming the file and line)."""


@dataclass
class Record:
    """One data record: its fields (quotes removed) and where it starts."""

    fields: list[str]
    line: int
    text: str


def machine_name(bus: int, machine_id: str) -> str:
    """The name of machine ``machine_id`` at bus ``bus`` (``G7``, ``G7_2``).

    Parameters
    ----------
    bus : int
        Bus number.
    machine_id : str
        PSS/E machine identifier (up to two characters).

    Returns
    -------
    str
        ``G<bus>`` for identifier 1 (or blank), else ``G<bus>_<id>``.
    """
    mid = machine_id.strip().strip("'\"").strip()
    return f"G{bus}" if mid in ("", "1") else f"G{bus}_{mid}"


def split_fields(text: str) -> list[str]:
    """The fields of a record line: comma or blank separated, quoted strings kept whole.

    Parameters
    ----------
    text : str
        One line; anything after a ``/`` outside quotes is a comment.

    Returns
    -------
    list of str
        The fields, quotes removed (an empty field between two commas is ``""``).
    """
    out, cur, quote, quoted, commas = [], "", "", False, False
    for ch in text:
        if quote:
            if ch == quote:
                quote = ""
            else:
                cur += ch
            continue
        if ch in "'\"":
            quote, quoted = ch, True
        elif ch == "/":
            break
        elif ch == ",":
            commas = True
            out.append(cur.strip() if not quoted else cur)
            cur, quoted = "", False
        elif ch in " \t" and not commas and not quoted and not cur.strip():
            continue
        elif ch in " \t" and not commas:
            out.append(cur if quoted else cur.strip())
            cur, quoted = "", False
        else:
            cur += ch
    if quote:
        raise ValueError("unterminated quoted string")
    if cur.strip() or quoted or commas:
        out.append(cur if quoted else cur.strip())
    return out


class _Reader:
    """Reads a RAW file into sections of records."""

    def __init__(self, path: Path) -> None:
        self.path = path
        try:
            self.lines = path.read_text(encoding="latin-1").splitlines()
        except OSError as exc:
            raise RawError(f"{path}: cannot be read ({exc.strerror})") from None

    def error(self, line: int, message: str) -> RawError:
        text = self.lines[line - 1].strip() if 0 < line <= len(self.lines) else ""
        return RawError(f"{self.path.name}:{line}: {message} (line: {text[:60]!r})")

    def record(self, k: int) -> Record:
        try:
            return Record(split_fields(self.lines[k]), k + 1, self.lines[k])
        except ValueError as exc:
            raise self.error(k + 1, str(exc)) from None

    def header(self) -> tuple[float, int, float]:
        if not self.lines:
            raise RawError(f"{self.path.name}: empty file")
        f = self.record(0).fields
        try:
            s_base = float(f[1])
            rev = int(float(f[2])) if len(f) > 2 and f[2] else 33
            freq = float(f[5]) if len(f) > 5 and f[5] else 60.0
        except (ValueError, IndexError):
            raise self.error(1, "not a case identification record (IC, SBASE, REV, ...)") from None
        if rev not in (32, 33, 34):
            raise self.error(1, f"RAW version {rev} is not read (versions 32, 33, 34)")
        return s_base, rev, freq

    def sections(self, rev: int) -> dict[str, list[Record]]:
        order = ORDER_34 if rev >= 34 else ORDER_33
        out: dict[str, list[Record]] = {}
        k, idx = 3, 0
        while k < len(self.lines) and self.lines[k].lstrip().startswith("@!"):
            k += 1
        if rev >= 34 and k < len(self.lines):  # optional system-wide data block
            first = split_fields(self.lines[k].split("/")[0]) or [""]
            if not re.fullmatch(r"-?\d+", first[0].strip()):
                while k < len(self.lines) and not _is_end(self.lines[k]):
                    k += 1
                k += 1
        current: list[Record] = []
        while k < len(self.lines) and idx < len(order):
            line = self.lines[k]
            if line.lstrip().startswith("@!") or not line.strip():
                k += 1
                continue
            if line.strip().upper().startswith("Q"):
                break
            if _is_end(line):
                out[order[idx]] = current
                idx, current = idx + 1, []
                begin = re.search(r"BEGIN (.+?) DATA", line.upper())
                if begin and begin.group(1).strip().lower() in order:
                    idx = order.index(begin.group(1).strip().lower())
                k += 1
                continue
            current.append(self.record(k))
            k += 1
        if current and idx < len(order):
            out[order[idx]] = current
        return out


def _is_end(line: str) -> bool:
    head = line.split("/")[0].strip()
    return head in ("0", "0,") or (head.startswith("0") and head.strip(" ,0") == "")


def _num(reader: _Reader, rec: Record, i: int, what: str, default: float | None = None) -> float:
    try:
        value = rec.fields[i]
        if value == "" and default is not None:
            return default
        x = float(value)
    except IndexError:
        if default is not None:
            return default
        raise reader.error(rec.line, f"{what} missing (field {i + 1})") from None
    except ValueError:
        raise reader.error(rec.line, f"{what} is not a number: {rec.fields[i]!r}") from None
    if not math.isfinite(x):
        raise reader.error(rec.line, f"{what} is not finite")
    return x


def read_raw(path: str | Path) -> pp.pandapowerNet:
    """A PSS/E RAW file (versions 32-34) as a pandapower network (see the module docstring).

    Parameters
    ----------
    path : str or pathlib.Path
        The RAW file.

    Returns
    -------
    pandapower.pandapowerNet
        The network; ``net.bus`` carries the file's solved voltages ``vm_raw_pu`` [pu] and
        ``va_raw_degree`` [deg].
    """
    reader = _Reader(Path(path))
    s_base, rev, freq = reader.header()
    sections = reader.sections(rev)
    net = pp.create_empty_network(name=Path(path).stem, f_hz=freq, sn_mva=s_base)
    for name in REFUSED:
        if sections.get(name):
            rec = sections[name][0]
            raise reader.error(rec.line, f"{name} records are not supported")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        build = _Builder(reader, net, s_base)
        build.buses(sections.get("bus", []))
        build.loads(sections.get("load", []))
        build.shunts(sections.get("fixed shunt", []), sections.get("switched shunt", []), rev)
        build.generators(sections.get("generator", []))
        build.branches(sections.get("branch", []), rev)
        build.switches(sections.get("system switching device", []))
        build.transformers(sections.get("transformer", []))
    if not len(net.ext_grid):
        raise RawError(f"{reader.path.name}: no in-service generator at a type-3 (slack) bus")
    return net


class _Builder:
    """Adds the records of each section to the network."""

    def __init__(self, reader: _Reader, net: pp.pandapowerNet, s_base: float) -> None:
        self.r, self.net, self.s_base = reader, net, s_base
        self.bus: dict[int, int] = {}
        self.kv: dict[int, float] = {}
        self.vm: dict[int, float] = {}
        self.kind: dict[int, int] = {}

    def _bus(self, rec: Record, i: int) -> int:
        number = int(_num(self.r, rec, i, "bus number"))
        if abs(number) not in self.bus:
            raise self.r.error(rec.line, f"bus {number} is not in the bus data")
        return abs(number)

    def buses(self, records: list[Record]) -> None:
        for rec in records:
            number = int(_num(self.r, rec, 0, "bus number"))
            kv = _num(self.r, rec, 2, "BASKV")
            ide = int(_num(self.r, rec, 3, "IDE"))
            vm, va = _num(self.r, rec, 7, "VM", 1.0), _num(self.r, rec, 8, "VA", 0.0)
            if number in self.bus:
                raise self.r.error(rec.line, f"bus {number} defined twice")
            if kv <= 0:
                kv = 1.0  # PSS/E allows a zero base; any base works for a per-unit network
            self.bus[number] = pp.create_bus(
                self.net, vn_kv=kv, name=str(number), in_service=ide != 4
            )
            self.kv[number], self.vm[number], self.kind[number] = kv, vm, ide
            self.net.bus.loc[self.bus[number], ["vm_raw_pu", "va_raw_degree"]] = [vm, va]

    def loads(self, records: list[Record]) -> None:
        for rec in records:
            b = self._bus(rec, 0)
            if int(_num(self.r, rec, 2, "STATUS", 1.0)) == 0:
                continue
            pl, ql = _num(self.r, rec, 5, "PL", 0.0), _num(self.r, rec, 6, "QL", 0.0)
            ip, iq = _num(self.r, rec, 7, "IP", 0.0), _num(self.r, rec, 8, "IQ", 0.0)
            yp, yq = _num(self.r, rec, 9, "YP", 0.0), _num(self.r, rec, 10, "YQ", 0.0)
            name = f"L{b}_{rec.fields[1].strip()}"
            v = self.vm[b]
            pp.create_load(self.net, self.bus[b], p_mw=pl + ip * v, q_mvar=ql + iq * v, name=name)
            if yp or yq:  # YQ > 0 is inductive consumption, as pandapower's q_mvar
                pp.create_shunt(self.net, self.bus[b], q_mvar=yq, p_mw=yp, name=f"{name}_Y")

    def shunts(self, fixed: list[Record], switched: list[Record], rev: int) -> None:
        for rec in fixed:
            b = self._bus(rec, 0)
            if int(_num(self.r, rec, 2, "STATUS", 1.0)) == 0:
                continue
            gl, bl = _num(self.r, rec, 3, "GL", 0.0), _num(self.r, rec, 4, "BL", 0.0)
            name = f"SH{b}_{rec.fields[1].strip()}"
            pp.create_shunt(self.net, self.bus[b], q_mvar=-bl, p_mw=gl, name=name)
        for rec in switched:
            b = self._bus(rec, 0)
            if rev >= 33 and int(_num(self.r, rec, 3, "STAT", 1.0)) == 0:
                continue
            quoted = [i for i, f in enumerate(rec.fields) if i > 2 and not _is_number(f)]
            i_binit = quoted[0] + 1 if quoted else (9 if rev >= 33 else 7)
            binit = _num(self.r, rec, i_binit, "BINIT")
            pp.create_shunt(self.net, self.bus[b], q_mvar=-binit, p_mw=0.0, name=f"SWSH{b}")

    def generators(self, records: list[Record]) -> None:
        slack_done = False
        for rec in records:
            b = self._bus(rec, 0)
            if int(_num(self.r, rec, 14, "STAT", 1.0)) == 0 or self.kind[b] == 4:
                continue
            name = machine_name(b, rec.fields[1] if len(rec.fields) > 1 else "1")
            pg, qg = _num(self.r, rec, 2, "PG", 0.0), _num(self.r, rec, 3, "QG", 0.0)
            vs = _num(self.r, rec, 6, "VS", 1.0)
            ireg = int(_num(self.r, rec, 7, "IREG", 0.0))
            mbase = _num(self.r, rec, 8, "MBASE", self.s_base) or self.s_base
            zx = _num(self.r, rec, 10, "ZX", 0.0)
            pt = _num(self.r, rec, 16, "PT", float("nan"))
            vm = vs if ireg in (0, b) else self.vm[b]
            if self.kind[b] == 3 and not slack_done:
                va = float(self.net.bus.at[self.bus[b], "va_raw_degree"])
                i = pp.create_ext_grid(self.net, self.bus[b], vm_pu=vm, va_degree=va, name=name)
                self.net.ext_grid.loc[i, ["sn_mva", "max_p_mw", "xdss_pu"]] = [mbase, pt, zx]
                slack_done = True
            elif self.kind[b] in (2, 3):
                pp.create_gen(
                    self.net, self.bus[b], p_mw=pg, vm_pu=vm, sn_mva=mbase, name=name,
                    max_p_mw=pt, xdss_pu=zx,
                )  # fmt: skip
            else:
                pp.create_sgen(self.net, self.bus[b], p_mw=pg, q_mvar=qg, name=name)

    def branches(self, records: list[Record], rev: int) -> None:
        first_shunt = 19 if rev >= 34 else 9  # GI: after NAME and 12 ratings in version 34
        for rec in records:
            i, j = self._bus(rec, 0), self._bus(rec, 1)
            ckt = rec.fields[2].strip() if len(rec.fields) > 2 else "1"
            r, x = _num(self.r, rec, 3, "R"), _num(self.r, rec, 4, "X")
            b_pu = _num(self.r, rec, 5, "B", 0.0)
            shunts = [_num(self.r, rec, first_shunt + k, "GI BI GJ BJ"[3 * k : 3 * k + 2], 0.0)
                      for k in range(4)]  # fmt: skip
            status = int(_num(self.r, rec, first_shunt + 4, "ST", 1.0))
            name = f"{i}-{j}-{ckt}"
            if r == 0.0 and abs(x) <= ZERO_IMPEDANCE_PU:
                pp.create_switch(self.net, self.bus[i], self.bus[j], et="b", closed=status != 0)
                continue
            z_base = self.kv[i] ** 2 / self.s_base
            pp.create_line_from_parameters(
                self.net, self.bus[i], self.bus[j], length_km=1.0, r_ohm_per_km=r * z_base,
                x_ohm_per_km=x * z_base,
                c_nf_per_km=b_pu / z_base / (2 * math.pi * self.net.f_hz) * 1e9,
                max_i_ka=99.0, name=name, in_service=status != 0,
            )  # fmt: skip
            for (g, bb), end in (((shunts[0], shunts[1]), i), ((shunts[2], shunts[3]), j)):
                if (g or bb) and status:
                    pp.create_shunt(
                        self.net, self.bus[end], p_mw=g * self.s_base,
                        q_mvar=-bb * self.s_base, name=f"{name}@{end}",
                    )  # fmt: skip

    def switches(self, records: list[Record]) -> None:
        for rec in records:
            i, j = self._bus(rec, 0), self._bus(rec, 1)
            status = int(_num(self.r, rec, 16, "STAT", 1.0))
            pp.create_switch(self.net, self.bus[i], self.bus[j], et="b", closed=status != 0)

    def transformers(self, records: list[Record]) -> None:
        k = 0
        while k < len(records):
            rec = records[k]
            if len(rec.fields) < 3:
                raise self.r.error(rec.line, "not a transformer record (I, J, K, CKT, ...)")
            if int(_num(self.r, rec, 2, "K", 0.0)) != 0:
                raise self.r.error(
                    rec.line, "three-winding transformers are not supported (convert it to "
                    "three two-winding transformers)",
                )  # fmt: skip
            if k + 3 >= len(records):
                raise self.r.error(rec.line, "transformer record incomplete (4 lines expected)")
            self._trafo(rec, records[k + 1], records[k + 2], records[k + 3])
            k += 4

    def _trafo(self, r1: Record, r2: Record, r3: Record, r4: Record) -> None:
        i, j = self._bus(r1, 0), self._bus(r1, 1)
        ckt = r1.fields[3].strip() if len(r1.fields) > 3 else "1"
        codes = ((4, "CW"), (5, "CZ"), (6, "CM"))
        cw, cz, cm = (int(_num(self.r, r1, n, c, 1.0)) for n, c in codes)
        mag1, mag2 = _num(self.r, r1, 7, "MAG1", 0.0), _num(self.r, r1, 8, "MAG2", 0.0)
        status = int(_num(self.r, r1, 11, "STAT", 1.0))
        if cz not in (1, 2) or cw not in (1, 2, 3):
            raise self.r.error(
                r1.line, f"transformer CW={cw}, CZ={cz} not supported (CW 1-3, CZ 1-2)"
            )
        if cm != 1 and (mag1 or mag2):
            raise self.r.error(r1.line, f"transformer CM={cm} not supported (CM 1)")
        r, x = _num(self.r, r2, 0, "R1-2"), _num(self.r, r2, 1, "X1-2")
        s_w = _num(self.r, r2, 2, "SBASE1-2", self.s_base) or self.s_base
        windv1, nomv1 = _num(self.r, r3, 0, "WINDV1", 1.0), _num(self.r, r3, 1, "NOMV1", 0.0)
        ang1 = _num(self.r, r3, 2, "ANG1", 0.0)
        windv2, nomv2 = _num(self.r, r4, 0, "WINDV2", 1.0), _num(self.r, r4, 1, "NOMV2", 0.0)
        t1, t2 = self._ratio(windv1, nomv1, i, cw), self._ratio(windv2, nomv2, j, cw)
        if cz == 2:  # winding base (SBASE1-2, NOMV1) -> system base
            v_w = nomv1 / self.kv[i] if nomv1 else 1.0
            r, x = r * self.s_base / s_w * v_w**2, x * self.s_base / s_w * v_w**2
        if x <= 0 or r < 0:
            raise self.r.error(r1.line, f"transformer R={r}, X={x}: needs X > 0 and R >= 0")
        # pandapower refers the impedance to its lv side at vn_lv_kv = t2 V_J: Z t2^2 on the
        # system base behind the ratio t1 / t2, MATPOWER's (and PSS/E's) branch model
        pp.create_transformer_from_parameters(
            self.net, self.bus[i], self.bus[j], sn_mva=self.s_base, vn_hv_kv=t1 * self.kv[i],
            vn_lv_kv=t2 * self.kv[j], vk_percent=100 * math.hypot(r, x), vkr_percent=100 * r,
            pfe_kw=0.0, i0_percent=0.0, shift_degree=ang1, name=f"{i}-{j}-{ckt}",
            in_service=status != 0,
        )  # fmt: skip
        if (mag1 or mag2) and status:
            pp.create_shunt(
                self.net, self.bus[i], p_mw=mag1 * self.s_base, q_mvar=-mag2 * self.s_base,
                name=f"{i}-{j}-{ckt}_mag",
            )  # fmt: skip

    def _ratio(self, windv: float, nomv: float, bus: int, cw: int) -> float:
        """A winding's turns ratio in pu of its bus base voltage."""
        if cw == 2:
            return windv / self.kv[bus]
        if cw == 3:
            return windv * (nomv or self.kv[bus]) / self.kv[bus]
        return windv


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True
