"""Compiled kernels (numba) for the heaviest parts of the weekly rules: a measured prototype.

Each kernel does, one resident (or provider) at a time in compiled code, exactly what the
numpy implementation in :mod:`abm.model.residents`, :mod:`abm.model.engines` and
:mod:`abm.model.accounts` does with whole-array operations: the same floating-point
operations in the same order, so the results are the same bit for bit
(``tests/model/test_kernels.py`` checks each against the numpy path on real model states).

Why compiled loops: at workshop size (3,000 residents) a week is a few hundred numpy calls
on small arrays, each costing a microsecond or more whatever its size; at 100,000 each rule
makes several passes over memory with temporaries. A loop over residents does a rule in one
pass with no temporaries and no per-call overhead. ``python -m benchmarks.kernels`` measures
each kernel against its numpy counterpart, and numba's compile time and cache.

What is here:

- :func:`pcg64_fill`: numpy's PCG64 and ``Generator.random``, exactly, for many generators at
  once (the 128-bit step as one LLVM 128-bit multiply); with
  :func:`abm.model.randomness.pcg64_states` it draws R replicates' keyed streams in one call.
  :func:`pcg64_items` reads any item's value without drawing those before it (a jump table
  shared by every stream), so a rule can draw only for the residents it concerns.
- :func:`decide`: resident rules 0-4 (community development's effect, need and shocks,
  share of ties attending, awareness, referral, drop-out, starting and provider choice).
- :func:`admit`: places at full groups, in priority order (the order by numpy, the
  counting compiled).
- :func:`update_wellbeing`: rule 5.
- :func:`update_ties`: rule 6 (ties made in groups fade or hold; attenders make new ones).
- :func:`share_of_ties_attending`: the pull of one's ties, kept up to date incrementally.
- :func:`decile_sums`: the per-resident reductions of the weekly metrics (by decile, by
  decile and state, by third), and :func:`pairwise_sum` (numpy's summation order) for the
  standard deviation.

The Python wrappers take the model's objects (a ``ResidentState``, a ``WeekContext``, a
``ProviderState``, ``Params``) and read the arrays they need by name; the kernels
themselves take arrays and numbers only, so an engine holding R replicates (residents of all
replicates concatenated, neighbourhood and provider ids offset per replicate) can call them
on its own arrays; ``test_one_call_over_concatenated_replicates_equals_each_replicate_alone``
shows it for rules 1-4.
"""

from __future__ import annotations

import functools
from typing import Any, NamedTuple, get_type_hints

import numba as nb
import numpy as np
from llvmlite import ir
from numba import types
from numba.extending import intrinsic

# Engagement states and constants, as in abm.model.residents (repeated here so that the
# kernels do not import the rules they reimplement; tests check they agree).
NOT_ENGAGED, REFERRED, ATTENDING, DROPPED_OUT = 0, 1, 2, 3
NATURE = 1
GROUP_TIES = 4
TIE_GONE = 0.05
WEEKS_PER_YEAR = 52

_JIT = {"cache": True, "nogil": True}

# --- PCG64 --------------------------------------------------------------------------------
_MULT = (2549297995355413924 << 64) | 4865540595714422341  # PCG_DEFAULT_MULTIPLIER_128


@intrinsic
def _mul_add_128(typingctx, a_hi, a_lo, b_hi, b_lo, c_hi, c_lo):
    """a x b + c modulo 2**128, each number given as (high, low) uint64 words: one LLVM
    128-bit multiply (numba has no 128-bit integer type of its own)."""
    sig = types.UniTuple(types.uint64, 2)(*[types.uint64] * 6)

    def codegen(context, builder, signature, args):
        i128, i64 = ir.IntType(128), ir.IntType(64)

        def join(high, low):
            return builder.or_(builder.shl(builder.zext(high, i128), ir.Constant(i128, 64)),
                               builder.zext(low, i128))

        value = builder.add(builder.mul(join(args[0], args[1]), join(args[2], args[3])),
                            join(args[4], args[5]))
        high = builder.trunc(builder.lshr(value, ir.Constant(i128, 64)), i64)
        return context.make_tuple(builder, signature.return_type,
                                  [high, builder.trunc(value, i64)])

    return sig, codegen


_MULT_HI, _MULT_LO = np.uint64(_MULT >> 64), np.uint64(_MULT & (2**64 - 1))


@nb.njit(inline="always")
def _pcg64_step(s_hi, s_lo, i_hi, i_lo):
    """PCG64's step: state x multiplier + increment, modulo 2**128."""
    return _mul_add_128(s_hi, s_lo, _MULT_HI, _MULT_LO, i_hi, i_lo)


@nb.njit(inline="always")
def _xsl_rr(high, low):
    """PCG64's output function (XSL-RR) of a 128-bit state."""
    x = high ^ low
    rot = high >> np.uint64(58)
    return (x >> rot) | (x << ((np.uint64(64) - rot) & np.uint64(63)))


@nb.njit(**_JIT)
def pcg64_fill(states, counts, out):
    """For each generator g (a row of ``states``: state high, state low, increment high,
    increment low), write its first ``counts[g]`` ``random()`` values into ``out``, one
    generator after another: exactly what ``Generator(PCG64(...)).random(counts[g])`` gives
    (``(next64 >> 11) * 2**-53`` after stepping). Returns the end of each generator's block."""
    ends = np.empty(len(counts), dtype=np.int64)
    k = 0
    for g in range(len(counts)):
        s_hi, s_lo, i_hi, i_lo = states[g, 0], states[g, 1], states[g, 2], states[g, 3]
        for _ in range(counts[g]):
            s_hi, s_lo = _pcg64_step(s_hi, s_lo, i_hi, i_lo)
            out[k] = (_xsl_rr(s_hi, s_lo) >> np.uint64(11)) * (1.0 / 9007199254740992.0)
            k += 1
        ends[g] = k
    return ends


@nb.njit(**_JIT)
def pcg64_jumps(n):
    """For items 0..n-1, the constants that take a PCG64 start state straight to the state
    item k's value is read from: that state is ``A[k] x state + B[k] x increment`` (modulo
    2**128) with ``A[k]`` = multiplier**(k+1) and ``B[k]`` = 1 + multiplier + ... +
    multiplier**k. They do not depend on the seed, stream or week, so one table serves every
    keyed stream of a run. Shape (n, 4): A high, A low, B high, B low."""
    out = np.empty((n, 4), dtype=np.uint64)
    a_hi, a_lo = np.uint64(0), np.uint64(1)
    b_hi, b_lo = np.uint64(0), np.uint64(0)
    zero, one = np.uint64(0), np.uint64(1)
    for k in range(n):
        a_hi, a_lo = _mul_add_128(a_hi, a_lo, _MULT_HI, _MULT_LO, zero, zero)
        b_hi, b_lo = _mul_add_128(b_hi, b_lo, _MULT_HI, _MULT_LO, zero, one)
        out[k, 0], out[k, 1], out[k, 2], out[k, 3] = a_hi, a_lo, b_hi, b_lo
    return out


@nb.njit(inline="always")
def pcg64_at(state, jumps, k):
    """Item k's ``random()`` value of the stream that starts in ``state`` (a row of
    :func:`abm.model.randomness.pcg64_states`), without drawing items 0..k-1: two 128-bit
    multiplies, about what one sequential step costs."""
    s_hi, s_lo = _mul_add_128(jumps[k, 0], jumps[k, 1], state[0], state[1],
                              np.uint64(0), np.uint64(0))
    s_hi, s_lo = _mul_add_128(jumps[k, 2], jumps[k, 3], state[2], state[3], s_hi, s_lo)
    return (_xsl_rr(s_hi, s_lo) >> np.uint64(11)) * (1.0 / 9007199254740992.0)


@nb.njit(**_JIT)
def pcg64_items(state, jumps, items, out):
    """The values of ``items`` (any order, any subset) of the stream starting in ``state``:
    ``out[m]`` = item ``items[m]``'s value, as drawing all and indexing would give."""
    for m in range(len(items)):
        out[m] = pcg64_at(state, jumps, items[m])


# --- resident rules -----------------------------------------------------------------------
class DecideParams(NamedTuple):
    """The numbers rules 0-4 read (see :class:`abm.model.parameters.Params`)."""

    cd_capacity_gain: float
    group_shock_protection: float
    need_recovery_rate: float
    group_recovery_boost: float
    shock_size: float
    outreach_awareness_rate: float
    social_awareness_rate: float
    cd_awareness_rate: float
    awareness_decay: float
    referral_need_threshold: float
    referral_weeks: int
    link_worker_awareness_gain: float
    dropout_rate: float
    dropout_capacity_effect: float
    dropout_memory_weeks: int
    follow_up_capacity_boost: float
    referral_boost_followed: float
    referral_boost_unfollowed: float
    reengage_factor: float
    need_motivation: float
    uptake_rate: float
    social_pull: float


class WellbeingParams(NamedTuple):
    """The numbers rule 5 reads."""

    cd_capacity_gain: float
    benefit_build_rate: float
    benefit_decay_rate: float
    belonging_build_rate: float
    belonging_decay_rate: float
    green_visit_share: float
    green_space_effect: float
    need_wellbeing_penalty: float
    wellbeing_adjust_rate: float


@functools.cache
def _field_types(kind: type[NamedTuple]) -> tuple[tuple[str, type], ...]:
    return tuple(get_type_hints(kind).items())


def params_for(kind: type[NamedTuple], params: Any) -> NamedTuple:
    """The named tuple ``kind`` filled from ``params`` by field name (an engine builds it
    once per run; it is a few microseconds)."""
    return kind(*(convert(params[name]) for name, convert in _field_types(kind)))


@nb.njit(**_JIT)
def share_of_ties_attending(attending, counted, ties_attending, indptr, indices, degree,
                            friends, strength, pull):
    """Per resident, the share of their ties attending (into ``pull``): set-up ties count
    1 each (``ties_attending`` kept up to date from the residents whose attendance changed
    since ``counted``), ties made in groups their strength. As
    ``ResidentState.share_of_ties_attending``."""
    n = len(attending)
    for i in range(n):
        if attending[i] != counted[i]:
            sign = 1 if attending[i] else -1
            for position in range(indptr[i], indptr[i + 1]):
                ties_attending[indices[position]] += sign
            counted[i] = attending[i]
    for i in range(n):
        group_attending = 0.0
        group_degree = 0.0
        for k in range(friends.shape[1]):
            friend = friends[i, k]
            attends = friend >= 0 and attending[friend]
            group_attending += strength[i, k] * (1.0 if attends else 0.0)
            group_degree += strength[i, k]
        total = degree[i] + group_degree
        pull[i] = (ties_attending[i] + group_attending) / total if total > 0 else 0.0


@nb.njit(**_JIT)
def decide(p, week, hood, capacity, p_shock, p_drop, belonging, need, need_untouched,
           awareness, state, state_until, followed_up, provider, came_by_referral, pull,
           cd_level, cd_any, u_shock, u_act, u_ref, outreach, access, referral_prob,
           follow_up_share, cand_indptr, cand_indices, cumulative, row_base, row_totals):
    """Rules 1-4 for every resident, in place (``pull`` already worked out for this week;
    ``cd_level`` after rule 0). The candidates matrix [neighbourhood, provider] comes as its
    ``indptr`` and ``indices``, the running sum of its values (``np.cumsum`` of its data,
    as ``pick_providers`` takes it: over the whole matrix), the running sum before each row
    (``row_base``: 0 for the first row) and each row's sum (:func:`row_sums`). When
    replicates are concatenated, the running sum and the base restart at each replicate's
    block, so that every replicate picks as it does alone (see :func:`running_sums`).
    Returns (starters, picks) as ``ResidentState.decide``."""
    n = len(hood)
    starters = np.empty(n, dtype=np.int64)
    picks = np.empty(n, dtype=np.int32)
    boost_by_state = (1.0, p.referral_boost_unfollowed, 1.0, p.reengage_factor)
    count = 0
    for i in range(n):
        h = hood[i]
        capacity_now = min(capacity[i] + p.cd_capacity_gain * cd_level[h], 1.0) if cd_any \
            else capacity[i]
        # 1. Needs and shocks.
        b = belonging[i]
        shocked = u_shock[i] < p_shock[i] * (1 - p.group_shock_protection * b)
        recovery = min(p.need_recovery_rate * (1 + p.group_recovery_boost * b), 1.0)
        need[i] = min(need[i] * (1 - recovery) + (p.shock_size if shocked else 0.0), 1.0)
        shocked = u_shock[i] < p_shock[i]
        need_untouched[i] = min(need_untouched[i] * (1 - p.need_recovery_rate)
                                + (p.shock_size if shocked else 0.0), 1.0)
        # 2. Awareness and trust.
        a = awareness[i]
        gain = p.outreach_awareness_rate * outreach[h] + p.social_awareness_rate * pull[i]
        if cd_any:
            gain = gain + p.cd_awareness_rate * cd_level[h]
        awareness[i] = a + gain * (1 - a) - p.awareness_decay * a
        # 3. Referral.
        s = state[i]
        if s in (REFERRED, DROPPED_OUT) and week >= state_until[i]:
            s = NOT_ENGAGED
        p_ref = referral_prob[h]
        if (s in (NOT_ENGAGED, DROPPED_OUT) and need[i] > p.referral_need_threshold
                and u_ref[i] < p_ref):
            s = REFERRED
            state_until[i] = week + p.referral_weeks
            followed_up[i] = u_ref[i] / p_ref < follow_up_share
            a = awareness[i]
            awareness[i] = a + p.link_worker_awareness_gain * (1 - a)
        # 4. Engagement.
        if s == ATTENDING:
            chance = p_drop[i] if not cd_any else p.dropout_rate * (
                1 + p.dropout_capacity_effect * (1 - capacity_now))
            if u_act[i] < chance:
                s = DROPPED_OUT
                provider[i] = -1
                came_by_referral[i] = False
                state_until[i] = week + p.dropout_memory_weeks
            state[i] = s
            continue
        state[i] = s
        helped = s == REFERRED and followed_up[i]
        cap = min(capacity_now + p.follow_up_capacity_boost, 1.0) if helped else capacity_now
        boost = p.referral_boost_followed if helped else boost_by_state[s]
        motivation = (1 + p.need_motivation * need[i]) / (1 + p.need_motivation)
        p_start = min(p.uptake_rate * awareness[i] * cap * motivation * access[h]
                      * (1 + p.social_pull * pull[i]) * boost, 1.0)
        if u_act[i] < p_start:
            v = u_act[i] / p_start
            start, end = cand_indptr[h], cand_indptr[h + 1]
            target = row_base[h] + v * row_totals[h]
            slot = np.searchsorted(cumulative[start:end], target, side="right") + start
            starters[count] = i
            picks[count] = cand_indices[min(slot, end - 1)]
            count += 1
    return starters[:count], picks[:count]


@nb.njit(**_JIT)
def row_sums(indptr, data):
    """Each row's sum of a CSR matrix as scipy's ``sum(axis=1)`` adds it: the row's first
    value plus numpy's pairwise sum of the rest (``np.add.reduceat``)."""
    out = np.zeros(len(indptr) - 1)
    for row in range(len(indptr) - 1):
        start, n = indptr[row], indptr[row + 1] - indptr[row]
        if n > 0:
            out[row] = data[start] + pairwise_sum(data, start + 1, n - 1)
    return out


def running_sums(indptr: np.ndarray, data: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The candidates' running sum (``np.cumsum`` of the data, as ``pick_providers`` adds
    it) and, per row, the running sum before the row (0 for the first row)."""
    cumulative = np.cumsum(data)
    starts = indptr[:-1]
    return cumulative, np.where(starts > 0, cumulative[np.maximum(starts - 1, 0)], 0.0)


@nb.njit(**_JIT)
def admit_in_order(starters, picks, order, places, provider_of_resident):
    """Which starters get a place, taking them in ``order`` (by provider, those marked
    first before the others, then by priority: ``np.lexsort`` in :func:`admit`), each
    provider until its spare places are gone (``ArrayEngine.admit``'s ranks). Returns
    (residents, providers) admitted, in that order."""
    spare = places.astype(np.int64)
    for j in provider_of_resident:
        if j >= 0:
            spare[j] -= 1
    residents = np.empty(len(order), dtype=np.int64)
    chosen = np.empty(len(order), dtype=np.int32)
    count = 0
    for k in order:
        j = picks[k]
        if spare[j] > 0:
            spare[j] -= 1
            residents[count] = starters[k]
            chosen[count] = j
            count += 1
    return residents[:count], chosen[:count]


def admit(starters: np.ndarray, picks: np.ndarray, first: np.ndarray, priority: np.ndarray,
          places: np.ndarray, provider_of_resident: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Places at full groups as ``ArrayEngine.admit`` gives them: the order (a few hundred
    starters) by numpy's ``lexsort``, the counting compiled (numba's stable argsort takes
    about 15 s to compile)."""
    order = np.lexsort((priority, ~first, picks))
    return admit_in_order(starters, picks, order, places, provider_of_resident)


@nb.njit(**_JIT)
def update_wellbeing(p, week, hood, capacity, cd_level, cd_any, green_access, baseline,
                     state, provider, effect, kind, need, benefit, belonging, green_benefit,
                     wellbeing, last_attended):
    """Rule 5 for every resident, in place (``ResidentState.update_wellbeing``)."""
    for i in range(len(hood)):
        attending = state[i] == ATTENDING
        h = hood[i]
        if attending:
            last_attended[i] = week
        b = benefit[i]
        j = provider[i]
        if attending:
            benefit[i] = b + p.benefit_build_rate * (effect[j] - b)
        else:
            benefit[i] = b - p.benefit_decay_rate * b
        g = belonging[i]
        if attending:
            belonging[i] = g + p.belonging_build_rate * (1 - g)
        else:
            belonging[i] = g - p.belonging_decay_rate * g
        if attending and kind[j] == NATURE:
            visits = 1.0
        else:
            capacity_now = min(capacity[i] + p.cd_capacity_gain * cd_level[h], 1.0) if cd_any \
                else capacity[i]
            visits = p.green_visit_share * capacity_now
        green = p.green_space_effect * green_access[h] * visits
        green_benefit[i] = green_benefit[i] + p.benefit_build_rate * (green - green_benefit[i])
        target = (baseline[i] - p.need_wellbeing_penalty * need[i] + benefit[i]
                  + green_benefit[i])
        w = wellbeing[i]
        wellbeing[i] = min(max(w + p.wellbeing_adjust_rate * (target - w), 0.0), 10.0)


@nb.njit(**_JIT)
def update_ties(state, provider, friends, strength, u_tie, decay_rate, tie_rate, tie_gone,
                n_providers):
    """Rule 6 for every resident, in place (``ResidentState.update_ties``): ties made in
    groups stay at full strength while both attend the same group and fade otherwise (gone
    below ``tie_gone``); attenders with ``u_tie < tie_rate`` make a tie with another attender
    of their group, chosen by rank among the group's attenders in resident order."""
    n = len(state)
    for i in range(n):
        group = provider[i] if state[i] == ATTENDING else -1
        for k in range(friends.shape[1]):
            friend = friends[i, k]
            if friend < 0:
                strength[i, k] = 0.0
                continue
            friend_group = provider[friend] if state[friend] == ATTENDING else -1
            if friend_group == group and friend_group >= 0:
                s = 1.0
            else:
                s = strength[i, k] * (1 - decay_rate)
            if s < tie_gone:
                friends[i, k] = -1
                s = 0.0
            strength[i, k] = s
    # Attenders grouped by provider, in resident order within a group (a counting sort:
    # the engine's stable argsort).
    size = np.zeros(n_providers, dtype=np.int64)
    for i in range(n):
        if state[i] == ATTENDING:
            size[provider[i]] += 1
    first = np.zeros(n_providers, dtype=np.int64)
    for j in range(1, n_providers):
        first[j] = first[j - 1] + size[j - 1]
    filled = first.copy()
    order = np.empty(n, dtype=np.int64)
    rank = np.empty(n, dtype=np.int64)
    for i in range(n):
        if state[i] == ATTENDING:
            j = provider[i]
            order[filled[j]] = i
            rank[i] = filled[j]
            filled[j] += 1
    for i in range(n):
        if state[i] != ATTENDING or not u_tie[i] < tie_rate:
            continue
        j = provider[i]
        if size[j] < 2:
            continue
        own = rank[i] - first[j]
        pick = min(np.int64(u_tie[i] / tie_rate * (size[j] - 1)), size[j] - 2)
        met = order[first[j] + pick + (1 if pick >= own else 0)]
        slot = -1
        for k in range(friends.shape[1]):
            if friends[i, k] == met:
                slot = k
                break
        if slot < 0:
            slot = 0
            for k in range(1, friends.shape[1]):
                if strength[i, k] < strength[i, slot]:
                    slot = k
        friends[i, slot] = met
        strength[i, slot] = 1.0


# --- weekly metrics -----------------------------------------------------------------------
@nb.njit(**_JIT)
def _block_sum(a, start, n):
    """numpy's pairwise summation of up to 128 values: one by one below 8, else 8 running
    sums combined in a fixed tree, then the remainder one by one."""
    if n < 8:
        total = -0.0
        for k in range(start, start + n):
            total += a[k]
        return total
    r0, r1, r2, r3 = a[start], a[start + 1], a[start + 2], a[start + 3]
    r4, r5, r6, r7 = a[start + 4], a[start + 5], a[start + 6], a[start + 7]
    k = 8
    while k < n - n % 8:
        r0 += a[start + k]
        r1 += a[start + k + 1]
        r2 += a[start + k + 2]
        r3 += a[start + k + 3]
        r4 += a[start + k + 4]
        r5 += a[start + k + 5]
        r6 += a[start + k + 6]
        r7 += a[start + k + 7]
        k += 8
    total = ((r0 + r1) + (r2 + r3)) + ((r4 + r5) + (r6 + r7))
    while k < n:
        total += a[start + k]
        k += 1
    return total


@nb.njit(**_JIT)
def pairwise_sum(a, start, n):
    """numpy's pairwise summation of ``a[start:start + n]`` (``np.add.reduce`` on a
    contiguous float64 array: blocks of up to 128 values, above that split in two halves
    whose first is a multiple of 8), so that sums and means agree with numpy's bit for bit.
    Written with an explicit stack: numba's cache cannot reload recursive functions (they
    crash the process)."""
    if n <= 128:
        return _block_sum(a, start, n)
    starts = np.empty(64, dtype=np.int64)
    sizes = np.empty(64, dtype=np.int64)
    stage = np.zeros(64, dtype=np.int8)  # 0: split; 1: left done; 2: both done
    values = np.empty(64)
    top, held = 0, 0
    starts[0], sizes[0] = start, n
    while top >= 0:
        s, m = starts[top], sizes[top]
        if m <= 128:
            values[held] = _block_sum(a, s, m)
            held += 1
            top -= 1
            continue
        half = m // 2
        half -= half % 8
        if stage[top] == 2:  # both halves summed: left + right
            values[held - 2] = values[held - 2] + values[held - 1]
            held -= 1
            top -= 1
            continue
        stage[top] += 1
        if stage[top] == 1:
            starts[top + 1], sizes[top + 1] = s, half
        else:
            starts[top + 1], sizes[top + 1] = s + half, m - half
        stage[top + 1] = 0
        top += 1
    return values[0]


@nb.njit(**_JIT)
def std(a):
    """``a.std()`` as numpy works it out (mean and squared deviations pairwise-summed)."""
    n = len(a)
    mean = pairwise_sum(a, 0, n) / n
    squares = np.empty(n)
    for k in range(n):
        d = a[k] - mean
        squares[k] = d * d
    return np.sqrt(pairwise_sum(squares, 0, n) / n)


@nb.njit(**_JIT)
def decile_sums(decile, third, state, wellbeing, last_attended, past_year_from, pull,
                baseline, need, need_untouched, benefit, green_benefit, penalty,
                low_threshold, need_threshold, friends):
    """One pass over residents for the weekly metrics' per-resident sums, each added in
    resident order as ``np.bincount`` adds them. Returns (wellbeing by decile, residents by
    decile and state (10 x 4), past-year attenders by decile, low life satisfaction by
    third, connected by decile, gap terms by decile (6 x 10: baseline, untouched need,
    need changed by assets, benefit, green benefit, lag), residents in need, group ties)."""
    wellbeing_d = np.zeros(10)
    state_d = np.zeros((10, 4), dtype=np.int64)
    past_year_d = np.zeros(10)
    low_t = np.zeros(3)
    connected_d = np.zeros(10)
    parts = np.zeros((6, 10))
    in_need = 0
    ties = 0
    for i in range(len(decile)):
        d = decile[i]
        w = wellbeing[i]
        wellbeing_d[d] += w
        state_d[d, state[i]] += 1
        past_year_d[d] += 1.0 if last_attended[i] > past_year_from else 0.0
        low_t[third[i]] += 1.0 if w < low_threshold else 0.0
        connected_d[d] += 1.0 if pull[i] > 0 else 0.0
        parts[0, d] += baseline[i]
        parts[1, d] += -penalty * need_untouched[i]
        parts[2, d] += -penalty * (need[i] - need_untouched[i])
        parts[3, d] += benefit[i]
        parts[4, d] += green_benefit[i]
        target = baseline[i] - penalty * need[i] + benefit[i] + green_benefit[i]
        parts[5, d] += w - target
        in_need += need[i] > need_threshold
        for k in range(friends.shape[1]):
            ties += friends[i, k] >= 0
    return wellbeing_d, state_d, past_year_d, low_t, connected_d, parts, in_need, ties


# --- wrappers on the model's objects --------------------------------------------------------
def cd_update(rs: Any, ctx: Any, params: Any) -> tuple[np.ndarray, bool]:
    """Rule 0 (per neighbourhood, numpy as in ``ResidentState.decide``): the new
    ``cd_level`` and whether any is above zero."""
    cd_level = rs.cd_level
    if ctx.cd_coverage.any() or cd_level.any():
        rate = -np.expm1(-1 / (params.cd_years_to_effect * WEEKS_PER_YEAR))
        cd_level = cd_level + rate * (ctx.cd_coverage - cd_level)
    return cd_level, bool(cd_level.any())


def decide_state(rs: Any, ctx: Any) -> tuple[np.ndarray, np.ndarray]:
    """``ResidentState.decide`` by the kernels, on ``rs`` in place."""
    p = rs.params
    rs.cd_level, cd_any = cd_update(rs, ctx, p)
    share_of_ties_attending(ctx.attending_at_start, rs._counted, rs.ties_attending,
                            rs.ties.indptr, rs.ties.indices, rs.degree, rs.friends,
                            rs.tie_strength, rs.pull)
    candidates = ctx.candidates
    totals = row_sums(candidates.indptr, candidates.data)
    cumulative, base = running_sums(candidates.indptr, candidates.data)
    return decide(params_for(DecideParams, p), ctx.week, rs.neighbourhood, rs.capacity,
                  rs.p_shock, rs.p_drop, rs.belonging, rs.need, rs.need_untouched,
                  rs.awareness, rs.state, rs.state_until, rs.followed_up, rs.provider,
                  rs.came_by_referral, rs.pull, rs.cd_level, cd_any, ctx.u_shock, ctx.u_act,
                  ctx.u_ref, ctx.outreach, ctx.access, ctx.referral_prob,
                  float(ctx.follow_up_share), candidates.indptr, candidates.indices,
                  cumulative, base, totals)


def update_ties_state(rs: Any, u_tie: np.ndarray, n_providers: int) -> None:
    """``ResidentState.update_ties`` by the kernel, on ``rs`` in place (``n_providers``:
    provider slots, at least one more than the highest provider attended)."""
    p = rs.params
    update_ties(rs.state, rs.provider, rs.friends, rs.tie_strength, u_tie,
                float(p.group_tie_decay_rate), float(p.group_tie_rate), TIE_GONE, n_providers)


def update_wellbeing_state(rs: Any, effect: np.ndarray, kind: np.ndarray, week: int) -> None:
    """``ResidentState.update_wellbeing`` by the kernel, on ``rs`` in place."""
    update_wellbeing(params_for(WellbeingParams, rs.params), week, rs.neighbourhood,
                     rs.capacity, rs.cd_level, bool(rs.cd_level.any()), rs.green_access,
                     rs.baseline, rs.state, rs.provider, effect, kind, rs.need, rs.benefit,
                     rs.belonging, rs.green_benefit, rs.wellbeing, rs.last_attended)
