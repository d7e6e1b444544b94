#!/usr/bin/python3
"""slimgen: a slimsweep family from a specification file (L, K, parameters, initial state).

Reads a TOML family specification (format: README.md, "Your own system"; examples in
sweeps/families/), derives with SymPy everything the family interface (include/slim/family.h)
needs -- F and P in the physical limit, their state and parameter derivatives, the energy --
and writes C with common subexpressions eliminated.

  slimgen.py check  SPEC...                  validate only
  slimgen.py c      SPEC -o FILE.c           C source for a build-time family (CMake uses this)
  slimgen.py registry SPEC... -o FILE.c      the registration function of the build-time families
  slimgen.py plugin SPEC -o FILE.so          C source compiled into a plugin for -family_plugin

A bad specification is one line on stderr, "slimgen: FILE: FIELD: PROBLEM", exit status 1,
and no output file is written (outputs are written to a temporary name and renamed).
Needs only Debian packages: python3 (>= 3.11, tomllib) and python3-sympy.
"""
import argparse
import keyword
import math
import os
import random
import re
import shlex
import subprocess
import sys
import tempfile

try:
    import tomllib
except ImportError:  # Python < 3.11
    sys.exit("slimgen: needs Python >= 3.11 (tomllib)")
try:
    import sympy as sp
    from sympy.parsing.sympy_parser import (parse_expr, standard_transformations, convert_xor)
    from sympy.printing.c import C99CodePrinter
    from sympy.core.function import AppliedUndef
except ImportError:
    sys.exit("slimgen: SymPy not found: install the Debian package 'python3-sympy'")

# Must match include/slim/family.h (tests/generator checks); the plugin's ABI number comes from
# the header it is compiled against.
SLIM_MAX_DOF = 4
SLIM_MAX_PARAM = 8

IDENT = re.compile(r"^[A-Za-z][A-Za-z0-9_]*$")
FAMILY_NAME = re.compile(r"^[a-z][a-z0-9_]{0,39}$")
FUNCTIONS = {
    "sin": sp.sin, "cos": sp.cos, "tan": sp.tan, "asin": sp.asin, "acos": sp.acos, "atan": sp.atan,
    "atan2": sp.atan2, "sinh": sp.sinh, "cosh": sp.cosh, "tanh": sp.tanh, "exp": sp.exp,
    "log": sp.log, "sqrt": sp.sqrt, "abs": sp.Abs, "cbrt": sp.cbrt, "min": sp.Min, "max": sp.Max,
}
CONSTANTS = {"pi": sp.pi}
RESERVED = set(FUNCTIONS) | set(CONSTANTS) | {"t", "t0", "E", "I"} | (set(keyword.kwlist) - {"lambda"})
KWNAME = re.compile(r"\b(" + "|".join(keyword.kwlist) + r")\b")


def kwsafe(name):
    """Python keywords (lambda!) are fine parameter names: renamed before parsing."""
    return name + "_kw_" if keyword.iskeyword(name) else name
TOP_FIELDS = {"name", "description", "coordinates", "parameters", "L", "K", "initial", "energy",
              "exact", "ratios", "periodic"}


class SpecError(Exception):
    def __init__(self, field, problem):
        super().__init__(f"{field}: {problem}")
        self.field, self.problem = field, problem


def fail(field, problem):
    raise SpecError(field, problem)


def parse_formula(text, field, allowed, hint=""):
    """Parses one formula; every name must be in `allowed` (name -> Symbol) or a known function."""
    if not isinstance(text, str) or not text.strip():
        fail(field, "expected a formula as a non-empty string")
    text = " ".join(text.split())  # formulas may span lines; messages stay one line
    if "__" in text or re.search(r"\b(import|exec|eval)\b", text):
        fail(field, f"not a formula: '{text}'")
    gdict = {"Integer": sp.Integer, "Float": sp.Float, "Rational": sp.Rational, "Symbol": sp.Symbol,
             "Function": sp.Function}
    gdict.update(FUNCTIONS)
    ldict = dict(CONSTANTS)
    ldict.update({kwsafe(k): x for k, x in allowed.items()})
    try:
        expr = parse_expr(KWNAME.sub(r"\1_kw_", text), local_dict=ldict, global_dict=gdict,
                          transformations=standard_transformations + (convert_xor,), evaluate=True)
    except (SyntaxError, TypeError, ValueError, AttributeError, NameError) as err:
        msg = err.msg if isinstance(err, SyntaxError) and err.msg else str(err).splitlines()[0]
        fail(field, f"syntax error in formula '{text}' ({msg})")
    except Exception as err:  # tokenizer errors and the like
        fail(field, f"syntax error in formula '{text}' ({type(err).__name__})")
    if not isinstance(expr, sp.Expr):
        fail(field, f"formula '{text}' is not a scalar expression")
    undef = sorted({str(f.func) for f in expr.atoms(AppliedUndef)})
    if undef:
        fail(field, f"unknown function '{undef[0]}' in '{text}' (known: {', '.join(sorted(FUNCTIONS))})")
    known = set(allowed.values())
    unknown = sorted(str(s) for s in expr.free_symbols if s not in known)
    if unknown:
        fail(field, f"unknown symbol '{unknown[0]}' in '{text}'" + (f" ({hint})" if hint else ""))
    if expr.has(sp.I) or expr.has(sp.zoo) or expr.has(sp.nan) or expr.has(sp.oo):
        fail(field, f"formula '{text}' is not finite and real")
    return expr


def number(value, field):
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        fail(field, f"expected a number, got {value!r}")
    if value != value or value in (float("inf"), float("-inf")):
        fail(field, "value is not finite")
    return float(value)


class Family:
    """A validated specification and everything derived from it."""

    def __init__(self, path):
        self.path = path
        try:
            with open(path, "rb") as f:
                spec = tomllib.load(f)
        except OSError as err:
            fail("file", f"cannot read ({err.strerror})")
        except tomllib.TOMLDecodeError as err:
            fail("file", f"not valid TOML ({err})")
        self.spec = spec
        for key in spec:
            if key not in TOP_FIELDS:
                fail(key, f"unknown field (known: {', '.join(sorted(TOP_FIELDS))})")
        for key in ("name", "description", "coordinates", "L", "initial"):
            if key not in spec:
                inner = [t for t, v in spec.items() if isinstance(v, dict) and key in v]
                fail(key, "missing field" + (f" (found as {inner[0]}.{key}: top-level fields go before the first [table])" if inner else ""))
        self.read_header()
        self.read_parameters()
        self.read_lagrangians()
        self.read_initial()
        self.read_optional()
        self.derive()
        self.check_numerically()

    # --- reading ------------------------------------------------------------------------------
    def read_header(self):
        s = self.spec
        if not isinstance(s["name"], str) or not FAMILY_NAME.match(s["name"]):
            fail("name", f"'{s['name']}' is not a family name (lower-case letters, digits, '_'; starts with a letter; at most 40)")
        self.name = s["name"]
        if not isinstance(s["description"], str) or not s["description"].strip() or "\n" in s["description"].strip():
            fail("description", "expected one non-empty line")
        self.description = s["description"].strip()
        coords = s["coordinates"]
        if not isinstance(coords, list) or not all(isinstance(c, str) for c in coords):
            fail("coordinates", "expected a list of names, e.g. [\"x\", \"y\"]")
        if not 1 <= len(coords) <= SLIM_MAX_DOF:
            fail("coordinates", f"dof {len(coords)} not in [1, {SLIM_MAX_DOF}]")
        for c in coords:
            if not IDENT.match(c) or c in RESERVED or c.endswith("dot"):
                fail("coordinates", f"'{c}' is not usable as a coordinate name")
        if len(set(coords)) != len(coords):
            fail("coordinates", "a name appears twice")
        self.coords = coords
        self.dof = len(coords)
        R = dict(real=True)
        self.q = [sp.Symbol(c, **R) for c in coords]
        self.v = [sp.Symbol(c + "dot", **R) for c in coords]
        self.qp = [sp.Symbol(c + "_p", **R) for c in coords]
        self.qm = [sp.Symbol(c + "_m", **R) for c in coords]
        self.vp = [sp.Symbol(c + "dot_p", **R) for c in coords]
        self.vm = [sp.Symbol(c + "dot_m", **R) for c in coords]
        self.t = sp.Symbol("t", real=True)
        derived = [str(x) for x in self.v + self.qp + self.qm + self.vp + self.vm]
        clash = sorted(set(derived) & set(coords)) or sorted({x for x in derived if derived.count(x) > 1})
        if clash:
            fail("coordinates", f"'{clash[0]}' is both a coordinate and the name of a velocity or +/- variable")

    def read_parameters(self):
        params = self.spec.get("parameters", {})
        if not isinstance(params, dict):
            fail("parameters", "expected a table of parameters")
        if len(params) > SLIM_MAX_PARAM:
            fail("parameters", f"{len(params)} parameters, at most {SLIM_MAX_PARAM}")
        self.pnames, self.pdefault, self.phelp = [], [], []
        taken = {str(x) for x in self.q + self.v + self.qp + self.qm + self.vp + self.vm}
        for p, d in params.items():
            f = f"parameters.{p}"
            if not IDENT.match(p) or p in RESERVED or p in taken:
                fail(f, f"'{p}' is not usable as a parameter name")
            if isinstance(d, (int, float)) and not isinstance(d, bool):
                d = {"default": d}
            if not isinstance(d, dict):
                fail(f, "expected { default = ..., help = \"...\", unit = \"...\" }")
            for k in d:
                if k not in ("default", "help", "unit"):
                    fail(f"{f}.{k}", "unknown field (known: default, help, unit)")
            if "default" not in d:
                fail(f"{f}.default", "missing field")
            self.pnames.append(p)
            self.pdefault.append(number(d["default"], f"{f}.default"))
            help_ = str(d.get("help", p)).strip()
            unit = str(d.get("unit", "")).strip()
            self.phelp.append(f"{help_} ({unit})" if unit else help_)
        self.th = [sp.Symbol(p, real=True) for p in self.pnames]
        self.psyms = {p: s for p, s in zip(self.pnames, self.th)}

    def syms(self, *groups, t=True):
        d = dict(self.psyms)
        if t:
            d["t"] = self.t
        for g in groups:
            d.update({str(s): s for s in g})
        return d

    def read_lagrangians(self):
        self.L = parse_formula(self.spec["L"], "L", self.syms(self.q, self.v),
                               "L uses the coordinates, their velocities <name>dot, t and the parameters")
        if "K" in self.spec:
            self.K = parse_formula(self.spec["K"], "K", self.syms(self.qp, self.qm, self.vp, self.vm),
                                   "K uses <name>_p, <name>_m, <name>dot_p, <name>dot_m, t and the parameters")
        else:
            self.K = sp.Integer(0)

    def read_initial(self):
        ini = self.spec["initial"]
        if not isinstance(ini, dict):
            fail("initial", "expected a table { q = [...], v = [...] }")
        for k in ini:
            if k not in ("q", "v"):
                fail(f"initial.{k}", "unknown field (known: q, v)")
        out = {}
        for k in ("q", "v"):
            if k not in ini:
                fail(f"initial.{k}", "missing field")
            x = ini[k]
            if not isinstance(x, list):
                x = [x]
            if len(x) != self.dof:
                fail(f"initial.{k}", f"{len(x)} values for dof {self.dof} (coordinates {', '.join(self.coords)})")
            out[k] = [self.constant(y, f"initial.{k}") for y in x]
        self.q0, self.v0 = out["q"], out["v"]

    def constant(self, y, field):
        """A number, or a formula in the parameters evaluated at their defaults (in double
        precision, operation by operation as written, like C would)."""
        if not isinstance(y, str):
            return number(y, field)
        parse_formula(y, field, self.syms(t=False), "initial values are numbers or formulas in the parameters")
        # evaluated by Python on the text as written (SymPy would reassociate the arithmetic)
        env = {"__builtins__": {}, "pi": math.pi, "abs": abs, "min": min, "max": max}
        env.update({f: getattr(math, f) for f in FUNCTIONS if hasattr(math, f)})
        env.update({kwsafe(p): d for p, d in zip(self.pnames, self.pdefault)})
        try:
            val = eval(KWNAME.sub(r"\1_kw_", " ".join(y.split())).replace("^", "**"), env)
        except (ValueError, ZeroDivisionError, OverflowError, TypeError, NameError) as err:
            fail(field, f"'{y}' cannot be evaluated at the default parameters ({err})")
        return number(float(val), field)

    def read_optional(self):
        s = self.spec
        self.energy_given = None
        if "energy" in s:
            self.energy_given = parse_formula(s["energy"], "energy", self.syms(self.q, self.v))
        self.ratios = []
        r = s.get("ratios", {})
        if not isinstance(r, dict):
            fail("ratios", "expected a table of name = \"formula in the parameters\"")
        if len(r) > SLIM_MAX_PARAM:
            fail("ratios", f"at most {SLIM_MAX_PARAM} ratios")
        for k, f in r.items():
            self.ratios.append((str(k), parse_formula(f, f"ratios.{k}", self.syms(t=False), "ratios use the parameters only")))
        self.period = [0.0] * self.dof
        per = s.get("periodic", {})
        if not isinstance(per, dict):
            fail("periodic", "expected a table of coordinate = period, e.g. { phi = \"2*pi\" }")
        for c, p in per.items():
            f = f"periodic.{c}"
            if c not in self.coords:
                fail(f, f"not a coordinate (coordinates: {', '.join(self.coords)})")
            val = float(parse_formula(p, f, {}, "a period is a constant such as \"2*pi\"")) if isinstance(p, str) else number(p, f)
            if not val > 0:
                fail(f, "the period must be positive")
            self.period[self.coords.index(c)] = val
        self.exact = None
        if "exact" in s:
            ex = s["exact"]
            if not isinstance(ex, dict):
                fail("exact", "expected a table { q = [...], v = [...], valid = \"...\" }")
            for k in ex:
                if k not in ("q", "v", "valid"):
                    fail(f"exact.{k}", "unknown field (known: q, v, valid)")
            init = [sp.Symbol(c + "0", real=True) for c in self.coords] + [sp.Symbol(c + "dot0", real=True) for c in self.coords]
            self.exact_init = init
            self.t0 = sp.Symbol("t0", real=True)
            allowed = self.syms(init)
            allowed["t0"] = self.t0
            hint = "exact solutions use t, t0, the initial values <name>0, <name>dot0 and the parameters"
            if "q" not in ex:
                fail("exact.q", "missing field")
            lists = {}
            for k in ("q", "v"):
                if k not in ex:
                    continue
                x = ex[k] if isinstance(ex[k], list) else [ex[k]]
                if len(x) != self.dof:
                    fail(f"exact.{k}", f"{len(x)} formulas for dof {self.dof}")
                lists[k] = [parse_formula(y, f"exact.{k}", allowed, hint) for y in x]
            if "v" not in lists:
                lists["v"] = [sp.diff(e, self.t) for e in lists["q"]]
            valid = parse_formula(ex["valid"], "exact.valid", allowed, hint) if "valid" in ex else None
            self.exact = (lists["q"], lists["v"], valid)

    # --- derivation ---------------------------------------------------------------------------
    def derive(self):
        n, np_ = self.dof, len(self.th)
        pl = {}
        for a in range(n):
            pl.update({self.qm[a]: 0, self.vm[a]: 0, self.qp[a]: self.q[a], self.vp[a]: self.v[a]})
        self.F = [sp.diff(self.L, self.q[a]) + sp.diff(self.K, self.qm[a]).subs(pl) for a in range(n)]
        self.P = [sp.diff(self.L, self.v[a]) + sp.diff(self.K, self.vm[a]).subs(pl) for a in range(n)]
        self.Kpl = self.K.subs(pl)
        D = lambda exprs, xs: [sp.diff(e, x) for e in exprs for x in xs]
        self.Fq, self.Fv = D(self.F, self.q), D(self.F, self.v)
        self.Pq, self.Pv = D(self.P, self.q), D(self.P, self.v)
        self.Fth, self.Pth = D(self.F, self.th), D(self.P, self.th)
        self.Pqth = [sp.diff(self.Pq[a * n + b], self.th[j]) for j in range(np_) for a in range(n) for b in range(n)]
        self.Pvth = [sp.diff(self.Pv[a * n + b], self.th[j]) for j in range(np_) for a in range(n) for b in range(n)]
        if self.energy_given is not None:
            self.E = self.energy_given
        else:
            self.E = sum(self.v[a] * sp.diff(self.L, self.v[a]) for a in range(n)) - self.L
        self.linear = self.is_linear()

    def is_linear(self):
        """F and P affine in (q, qdot) with a Jacobian that does not change with t: then the
        discrete equations are linear with a constant matrix (one factorisation, one solve per step)."""
        xs = self.q + self.v
        for e in self.F + self.P:
            try:
                if sp.Poly(sp.expand(e), *xs).total_degree() > 1:
                    return False
            except sp.PolynomialError:
                return False
        return not any(self.t in e.free_symbols for e in self.Fq + self.Fv + self.Pq + self.Pv)

    def check_numerically(self):
        subs0 = {self.t: 0}
        subs0.update(zip(self.th, self.pdefault))
        subs0.update(zip(self.q, self.q0))
        subs0.update(zip(self.v, self.v0))
        n = self.dof

        def value(e, subs, field):
            try:
                x = complex(sp.N(e.subs(subs)))
            except (TypeError, ValueError):
                fail(field, "cannot be evaluated at the initial state")
            if x.imag != 0 or x.real != x.real or abs(x.real) == float("inf"):
                fail(field, "not finite and real at the initial state and default parameters")
            return x.real

        for a in range(n):
            value(self.F[a], subs0, "L")
            value(self.P[a], subs0, "L")
        Pv = sp.Matrix(n, n, [value(x, subs0, "L") for x in self.Pv])
        scale = max(abs(x) for x in Pv)
        det = float(Pv.det())
        if scale == 0 or abs(det) <= 1e-12 * scale**n:
            fail("L", f"P_qdot = d2L/dqdot2 is singular at the initial state (det = {det:.3g}): the velocities cannot be solved for")
        # K must vanish in the physical limit: a symbolic zero, else checked at random points
        if self.Kpl != 0 and sp.simplify(self.Kpl) != 0:
            rng = random.Random(1)
            for _ in range(3):
                s = dict(subs0)
                s.update({x: rng.uniform(-1, 1) for x in self.q + self.v})
                s[self.t] = rng.uniform(0, 1)
                k = value(self.Kpl, s, "K")
                if abs(k) > 1e-12:
                    fail("K", f"K does not vanish when the _m variables are 0 (K -> {sp.simplify(self.Kpl)})")
        value(self.E, subs0, "energy")

    # --- C code -------------------------------------------------------------------------------
    def cname(self):
        return "SlimFamilyCreate_gen_" + self.name

    def printer(self):
        mapping = {}
        for a in range(self.dof):
            mapping[self.q[a]] = f"q[{a}]"
            mapping[self.v[a]] = f"v[{a}]"
        for j, s in enumerate(self.th):
            mapping[s] = f"th[{j}]"
        mapping[self.t] = "t"
        if self.exact:
            for a in range(self.dof):
                mapping[self.exact_init[a]] = f"q0[{a}]"
                mapping[self.exact_init[self.dof + a]] = f"v0[{a}]"
            mapping[self.t0] = "t0"
        return Printer(mapping)


class Printer(C99CodePrinter):
    """C for PetscReal arithmetic: integer powers as products, no pow() for squares."""

    def __init__(self, mapping):
        # SymPy >= 1.13 refuses to print what C lacks unless strict is off; Debian 12 has 1.11
        super().__init__({"strict": False} if "strict" in C99CodePrinter._default_settings else {})
        self.mapping = mapping

    def _print_Symbol(self, s):
        return self.mapping.get(s, s.name)

    def _print_Pow(self, e):
        b, x = e.args
        if x.is_Integer and 0 < x <= 8:
            base = self.parenthesize(b, 100)  # always parenthesised unless atomic
            return "(" + "*".join([base] * int(x)) + ")" if x > 1 else base
        if x.is_Integer and x < 0:
            return "(1.0/" + self._print(sp.Pow(b, -x, evaluate=False)) + ")"
        if x == sp.Rational(1, 2):
            return f"sqrt({self._print(b)})"
        return f"pow({self._print(b)}, {self._print(sp.Float(float(x), 17)) if not x.is_Integer else self._print(x)})"

    def _print_Rational(self, e):
        return f"({e.p}.0/{e.q}.0)" if e.q != 1 else f"{e.p}.0"

    def _print_Integer(self, e):
        return f"{int(e)}.0"


def rewrite_powers(stmts, newsym):
    """Rewrites half-integer and negative powers after CSE so that each base has one sqrt() and
    one division: b**(-5/2) -> (ib*ib)*isb with isb = 1/sqrt(b), ib = 1/b defined just before first use.
    stmts: list of (Symbol or None, expr). Returns the new list."""
    out, cache = [], {}

    def helper(kind, b):
        key = (kind, b)
        if key not in cache:
            s = newsym()
            if kind == "sqrt":
                val = sp.sqrt(b, evaluate=False)
            elif kind == "inv":
                val = sp.Pow(b, -1, evaluate=False)
            else:  # invsqrt
                val = sp.Pow(helper("sqrt", b), -1, evaluate=False)
            out.append((s, val))
            cache[key] = s
        return cache[key]

    def rw(e):
        if e.is_Atom:
            return e
        args = [rw(a) for a in e.args]
        if e.is_Pow:
            b, x = args
            if x.is_Rational and x.q == 2 and not x.is_Integer:
                if x > 0:
                    s = helper("sqrt", b)
                    return sp.Mul(s, sp.Pow(b, (x - sp.Rational(1, 2)), evaluate=False), evaluate=False) if x > 1 else s
                s = helper("invsqrt", b)
                k = -(x + sp.Rational(1, 2))  # b**x = b**(-k) * b**(-1/2)
                return sp.Mul(sp.Pow(helper("inv", b), k, evaluate=False), s, evaluate=False) if k > 0 else s
            if x.is_Integer and x < -1:
                return sp.Pow(helper("inv", b), -x, evaluate=False)
            if x == -1:
                return helper("inv", b)
            return sp.Pow(b, x, evaluate=False)
        return e.func(*args, evaluate=False) if e.is_Add or e.is_Mul else e.func(*args)

    for s, e in stmts:
        out.append((s, rw(e)))
    return out


def cse_block(exprs, printer, tag):
    """CSE over all expressions; returns statements and the reduced outputs."""
    counter = [0]

    def newsym():
        counter[0] += 1
        return sp.Symbol(f"{tag}_{counter[0]}", real=True)

    syms = sp.numbered_symbols(f"{tag}x", real=True)
    repl, reduced = sp.cse(exprs, symbols=syms, optimizations="basic")
    stmts = rewrite_powers(repl + [(None, r) for r in reduced], newsym)
    defs = [(s, e) for s, e in stmts if s is not None]
    outs = [e for s, e in stmts if s is None]
    return defs, outs


def needed(defs, outs):
    """Indices of the definitions that the outputs depend on."""
    index = {s: i for i, (s, _) in enumerate(defs)}
    keep, stack = set(), [x for e in outs for x in e.free_symbols if x in index]
    while stack:
        s = stack.pop()
        i = index[s]
        if i in keep:
            continue
        keep.add(i)
        stack.extend(x for x in defs[i][1].free_symbols if x in index)
    return sorted(keep)


def emit_c(fam, plugin=False):
    pr = fam.printer()
    n, np_ = fam.dof, len(fam.th)
    groups = [("F", fam.F), ("P", fam.P), ("Fq", fam.Fq), ("Fv", fam.Fv), ("Pq", fam.Pq), ("Pv", fam.Pv),
              ("Fth", fam.Fth), ("Pth", fam.Pth), ("Pqth", fam.Pqth), ("Pvth", fam.Pvth)]
    flat, spans = [], []
    for g, exprs in groups:
        spans.append((g, len(flat), len(exprs)))
        flat.extend(exprs)
    defs, outs = cse_block(flat, pr, "x")

    def block(gnames, indent):
        sel = [(g, s, k) for g, s, k in spans if g in gnames]
        touts = [outs[s + i] for g, s, k in sel for i in range(k)]
        lines = []
        for i in needed(defs, touts):
            s, e = defs[i]
            lines.append(f"{indent}const PetscReal {pr.doprint(s)} = {pr.doprint(e)};")
        for g, s, k in sel:
            if k == 0:
                continue
            lines.append(f"{indent}if (e->{g}) {{")
            for i in range(k):
                lines.append(f"{indent}  e->{g}[{i}] = {pr.doprint(outs[s + i])};")
            lines.append(f"{indent}}}")
        return lines

    state = ["F", "P", "Fq", "Fv", "Pq", "Pv"]
    allg = state + ["Fth", "Pth", "Pqth", "Pvth"]
    ident = fam.name
    src = []
    w = src.append
    w(f"/* Generated by tools/slimgen.py from {os.path.basename(fam.path)}: do not edit; edit the")
    w(" * specification and rebuild (or rerun slimgen.py plugin). */")
    w("#include <math.h>")
    w("#include <slim/family.h>")
    w("")
    w(f"/* L = {fam.spec['L']}")
    w(f" * K = {fam.spec.get('K', '0')}")
    w(f" * linear: {'yes' if fam.linear else 'no'} */")
    w("")
    w("/* Three variants share one set of common subexpressions, so each output is bit-for-bit the")
    w(" * same whichever others are requested; each variant computes only what its outputs need. */")
    w(f"static PetscErrorCode Eval_{ident}(const PetscReal th[], PetscReal t, const PetscReal q[], const PetscReal v[], SlimEval *e)")
    w("{")
    w("  PetscFunctionBeginUser;")
    w("  (void)th, (void)t, (void)q, (void)v;")
    if np_:
        w("  if (e->Fth || e->Pth || e->Pqth || e->Pvth) {")
        src.extend(block(allg, "    "))
        w("  } else if (e->Fq || e->Fv || e->Pq || e->Pv) {")
    else:
        w("  if (e->Fq || e->Fv || e->Pq || e->Pv) {")
    src.extend(block(state, "    "))
    w("  } else {")
    src.extend(block(["F", "P"], "    "))
    w("  }")
    w("  PetscFunctionReturn(0);")
    w("}")
    w("")
    # energy
    d, o = cse_block([fam.E], pr, "y")
    w(f"static PetscErrorCode Energy_{ident}(const PetscReal th[], PetscReal t, const PetscReal q[], const PetscReal v[], PetscReal *E)")
    w("{")
    w("  PetscFunctionBeginUser;")
    w("  (void)th, (void)t, (void)q, (void)v;")
    for s, e in d:
        w(f"  const PetscReal {pr.doprint(s)} = {pr.doprint(e)};")
    w(f"  *E = {pr.doprint(o[0])};")
    w("  PetscFunctionReturn(0);")
    w("}")
    if fam.exact:
        eq, ev, valid = fam.exact
        d, o = cse_block(eq + ev + ([valid] if valid is not None else []), pr, "z")
        w("")
        w(f"static PetscErrorCode Exact_{ident}(const PetscReal th[], PetscReal t0, const PetscReal q0[], const PetscReal v0[], PetscReal t, PetscReal q[], PetscReal v[], PetscBool *has)")
        w("{")
        w("  PetscFunctionBeginUser;")
        w("  (void)th, (void)t0, (void)q0, (void)v0, (void)t;")
        w("  *has = PETSC_FALSE;")
        if valid is not None:
            # the condition first, so that formulas outside their validity are never evaluated
            dv = needed(d, [o[-1]])
            for i in dv:
                s, e = d[i]
                w(f"  const PetscReal {pr.doprint(s)} = {pr.doprint(e)};")
            w(f"  if (!({pr.doprint(o[-1])} > 0)) PetscFunctionReturn(0);")
            rest = [i for i in needed(d, o[:-1]) if i not in dv]
        else:
            rest = needed(d, o)
        w("  {")
        for i in rest:
            s, e = d[i]
            w(f"    const PetscReal {pr.doprint(s)} = {pr.doprint(e)};")
        for a in range(n):
            w(f"    q[{a}] = {pr.doprint(o[a])};")
        for a in range(n):
            w(f"    v[{a}] = {pr.doprint(o[n + a])};")
        w("  }")
        w("  *has = PETSC_TRUE;")
        w("  PetscFunctionReturn(0);")
        w("}")
    if fam.ratios:
        d, o = cse_block([r for _, r in fam.ratios], pr, "w")
        w("")
        w(f"static PetscErrorCode Ratios_{ident}(const PetscReal th[], PetscReal r[])")
        w("{")
        w("  PetscFunctionBeginUser;")
        for s, e in d:
            w(f"  const PetscReal {pr.doprint(s)} = {pr.doprint(e)};")
        for i, e in enumerate(o):
            w(f"  r[{i}] = {pr.doprint(e)};")
        w("  PetscFunctionReturn(0);")
        w("}")
    w("")
    static = "static " if plugin else ""
    if not plugin:
        w(f"PETSC_EXTERN PetscErrorCode {fam.cname()}(SlimFamily);")
    w(f"{static}PetscErrorCode {fam.cname()}(SlimFamily fam)")
    w("{")
    w("  PetscFunctionBeginUser;")
    w(f"  fam->description = {cstr(fam.description)};")
    w(f"  fam->dof         = {n};")
    w(f"  fam->nparam      = {np_};")
    for j in range(np_):
        w(f"  fam->pname[{j}] = {cstr(fam.pnames[j])};")
        w(f"  fam->phelp[{j}] = {cstr(fam.phelp[j])};")
        w(f"  fam->theta[{j}] = {fam.pdefault[j]!r};")
    w(f"  fam->nratio      = {len(fam.ratios)};")
    for i, (rn, _) in enumerate(fam.ratios):
        w(f"  fam->rname[{i}] = {cstr(rn)};")
    for a in range(n):
        w(f"  fam->q0[{a}] = {fam.q0[a]!r};")
        w(f"  fam->v0[{a}] = {fam.v0[a]!r};")
        if fam.period[a]:
            w(f"  fam->period[{a}] = {fam.period[a]!r};")
    w(f"  fam->linear      = {'PETSC_TRUE' if fam.linear else 'PETSC_FALSE'};")
    w(f"  fam->eval        = Eval_{ident};")
    w(f"  fam->energy      = Energy_{ident};")
    w(f"  fam->exact       = {('Exact_' + ident) if fam.exact else 'NULL'};")
    w(f"  fam->ratios      = {('Ratios_' + ident) if fam.ratios else 'NULL'};")
    w("  PetscFunctionReturn(0);")
    w("}")
    if plugin:
        w("")
        w("/* Plugin entry points, looked up by SlimFamilyLoadPlugins() (-family_plugin). */")
        w("PETSC_EXTERN int SlimPluginABI(void);")
        w("PETSC_EXTERN PetscErrorCode SlimPluginRegister(SlimPluginRegisterFn);")
        w("int SlimPluginABI(void) { return SLIM_FAMILY_ABI; }")
        w("PetscErrorCode SlimPluginRegister(SlimPluginRegisterFn reg)")
        w("{")
        w("  PetscFunctionBeginUser;")
        w(f"  PetscCall(reg({cstr(fam.name)}, {fam.cname()}));")
        w("  PetscFunctionReturn(0);")
        w("}")
    return "\n".join(src) + "\n"


def cstr(s):
    return '"' + s.replace("\\", "\\\\").replace('"', '\\"') + '"'


def emit_registry(fams):
    out = ["/* Generated by tools/slimgen.py: registers the families of the specification files. */",
           "#include <slim/family.h>", "#include <slim/families.h>", ""]
    for f in fams:
        out.append(f"PETSC_EXTERN PetscErrorCode {f.cname()}(SlimFamily);")
    out += ["", "PetscErrorCode SlimFamilyRegisterGenerated(void)", "{", "  PetscFunctionBeginUser;"]
    for f in fams:
        out.append(f"  PetscCall(SlimFamilyRegister({cstr(f.name)}, {f.cname()}));")
    out += ["  PetscFunctionReturn(0);", "}", ""]
    return "\n".join(out)


def write_atomic(path, data, mode="w"):
    d = os.path.dirname(os.path.abspath(path))
    os.makedirs(d, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=d, prefix=".slimgen-")
    with os.fdopen(fd, mode) as f:
        f.write(data)
    os.replace(tmp, path)


def load(path):
    try:
        return Family(path)
    except SpecError as err:
        print(f"slimgen: {path}: {err.field}: {err.problem}", file=sys.stderr)
        sys.exit(1)


class Named:
    def __init__(self, name):
        self.name = name

    def cname(self):
        return "SlimFamilyCreate_gen_" + self.name


def load_name(path):
    try:
        with open(path, "rb") as f:
            name = tomllib.load(f).get("name")
    except (OSError, tomllib.TOMLDecodeError) as err:
        print(f"slimgen: {path}: file: cannot read or not valid TOML ({err})", file=sys.stderr)
        sys.exit(1)
    if not isinstance(name, str) or not FAMILY_NAME.match(name):
        print(f"slimgen: {path}: name: missing or not a family name", file=sys.stderr)
        sys.exit(1)
    return Named(name)


def compile_plugin(fam, out, include):
    """Compiles the generated C into a shared library next to `out` (atomically)."""
    cc = os.environ.get("CC") or "mpicc"
    try:
        petsc = subprocess.run(["pkg-config", "--cflags", "--libs", "PETSc"], capture_output=True, text=True, check=True).stdout.split()
    except (OSError, subprocess.CalledProcessError):
        print("slimgen: pkg-config PETSc failed: install the Debian packages 'pkg-config libpetsc-real-dev'", file=sys.stderr)
        sys.exit(1)
    d = os.path.dirname(os.path.abspath(out))
    os.makedirs(d, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=d, prefix=".slimgen-") as tmp:
        src = os.path.join(tmp, f"{fam.name}.c")
        so = os.path.join(tmp, f"{fam.name}.so")
        with open(src, "w") as f:
            f.write(emit_c(fam, plugin=True))
        # -ffp-contract=off as the project's own build (CMakeLists.txt): the same arithmetic
        cmd = [cc, "-O3", "-ffp-contract=off", "-fPIC", "-shared", "-o", so, src, f"-I{include}"] + petsc + ["-lm"]
        res = subprocess.run(cmd, capture_output=True, text=True)
        if res.returncode:
            first = (res.stderr.strip().splitlines() or ["?"])[0]
            print(f"slimgen: {fam.path}: compiling the plugin failed ({shlex.join(cmd)}): {first}", file=sys.stderr)
            sys.exit(1)
        os.replace(so, out)


def main():
    ap = argparse.ArgumentParser(prog="slimgen.py", description=__doc__.split("\n\n")[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    p = sub.add_parser("check", help="validate specification files")
    p.add_argument("specs", nargs="+")
    p = sub.add_parser("c", help="C source of one build-time family")
    p.add_argument("spec")
    p.add_argument("-o", "--output", required=True)
    p = sub.add_parser("registry", help="registration function of the build-time families")
    p.add_argument("specs", nargs="*")
    p.add_argument("-o", "--output", required=True)
    p = sub.add_parser("plugin", help="compile a spec into a plugin for slimsweep -family_plugin")
    p.add_argument("spec")
    p.add_argument("-o", "--output", help="plugin file (default: <name>.so in the current directory)")
    p.add_argument("--keep-c", metavar="FILE", help="also write the generated C source to FILE")
    p.add_argument("--include", default=os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "include"),
                   help="directory holding slim/family.h (default: the source tree's include/)")
    args = ap.parse_args()

    if args.cmd == "check":
        for s in args.specs:
            f = load(s)
            print(f"{s}: family '{f.name}', dof {f.dof}, {len(f.th)} parameters, {'linear' if f.linear else 'nonlinear'}")
    elif args.cmd == "c":
        f = load(args.spec)
        write_atomic(args.output, emit_c(f))
    elif args.cmd == "registry":
        # names only: the per-spec "c" commands validate the rest
        fams, seen = [], {}
        for s in args.specs:
            f = load_name(s)
            if f.name in seen:
                print(f"slimgen: {s}: name: family '{f.name}' is also defined by {seen[f.name]}", file=sys.stderr)
                sys.exit(1)
            seen[f.name] = s
            fams.append(f)
        write_atomic(args.output, emit_registry(fams))
    elif args.cmd == "plugin":
        f = load(args.spec)
        out = args.output or f"{f.name}.so"
        if args.keep_c:
            write_atomic(args.keep_c, emit_c(f, plugin=True))
        compile_plugin(f, out, os.path.abspath(args.include))
        print(f"{out}: family '{f.name}' ({'linear' if f.linear else 'nonlinear'}); run with: slimsweep -family_plugin {out} -sweep_family {f.name} ...")


if __name__ == "__main__":
    main()
