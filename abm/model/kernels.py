"""Compiled kernels (numba) for the heaviest resident rules: the fast engine's weekly step.

Each kernel does, one resident at a time in compiled code, exactly what the numpy rules of
:class:`abm.model.residents.ResidentState` and :class:`abm.model.engines.ArrayEngine` do
with whole-array operations: the same floating-point operations in the same order, so the
results are the same bit for bit (``tests/model/test_kernels.py`` checks each against its
numpy rule on real model states; ``tests/model/test_reference.py`` whole runs against the
per-agent reference).

Why compiled loops: at workshop size (3,000 residents) a week is a few hundred numpy calls
on small arrays, each costing a microsecond or more whatever its size; at 100,000 each rule
makes several passes over memory with temporaries. A loop over residents does a rule in one
pass with no temporaries and no per-call overhead. ``python -m benchmarks.kernels`` measures
each kernel against its numpy rule, and numba's compile time and cache.

What is here (used by :class:`abm.model.engines.CompiledEngine`):

- :func:`share_of_ties_attending`: the pull of one's ties, kept up to date incrementally;
- :func:`decide`: resident rules 1-4 (need and shocks, awareness, referral, drop-out,
  starting and provider choice; rule 0, per neighbourhood, stays on numpy);
- :func:`admit`: places at full groups, in priority order (the order by numpy, the
  counting compiled);
- :func:`update_wellbeing`: rule 5; :func:`update_ties`: rule 6;
- :func:`candidates`: the week's candidates matrix without a sparse product;
- :func:`row_sums` (with :func:`pairwise_sum`): the candidates' row sums in scipy's order;
- :func:`pcg64_fill`: numpy's PCG64 and ``Generator.random``, exactly, for many generators
  at once (the 128-bit step as one LLVM 128-bit multiply): R replicates' keyed streams
  in one call.

Replicates: residents of R replicates come one replicate after another, ``per`` each, with
neighbourhood, resident and provider ids numbered across them (:mod:`abm.model.replicas`);
parameters come as named tuples with one value per replicate (:func:`params_for`), so one
call serves replicates with their own parameter values, each computing exactly as alone.

The kernels are compiled on first use and cached on disk (``cache=True``: in the package's
``__pycache__``, or numba's user-wide cache folder, or ``NUMBA_CACHE_DIR``); a fresh clone
compiles them once (seconds), later processes load them.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, NamedTuple

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
def pcg64_fill(words, counts, out):
    """For each generator g, seeded with ``words[g]`` (its four seed words,
    :func:`abm.model.randomness.seed_words`), write its first ``counts[g]`` ``random()``
    values into ``out``, one generator after another: exactly what
    ``Generator(PCG64(...)).random(counts[g])`` gives (PCG64's seeding, then
    ``(next64 >> 11) * 2**-53`` after each step). Returns the end of each generator's block."""
    ends = np.empty(len(counts), dtype=np.int64)
    one = np.uint64(1)
    k = 0
    for g in range(len(counts)):
        # PCG64's seeding (numpy's pcg64_set_seed): increment from the last two words,
        # state from the first two, stepped before and after adding them.
        i_hi = (words[g, 2] << one) | (words[g, 3] >> np.uint64(63))
        i_lo = (words[g, 3] << one) | one
        s_hi, s_lo = _mul_add_128(i_hi, i_lo, np.uint64(0), one, words[g, 0], words[g, 1])
        s_hi, s_lo = _pcg64_step(s_hi, s_lo, i_hi, i_lo)
        for _ in range(counts[g]):
            s_hi, s_lo = _pcg64_step(s_hi, s_lo, i_hi, i_lo)
            out[k] = (_xsl_rr(s_hi, s_lo) >> np.uint64(11)) * (1.0 / 9007199254740992.0)
            k += 1
        ends[g] = k
    return ends


# --- resident rules -----------------------------------------------------------------------
class DecideParams(NamedTuple):
    """The numbers rules 1-4 read (see :class:`abm.model.parameters.Params`): each one value
    per replicate."""

    cd_capacity_gain: np.ndarray
    group_shock_protection: np.ndarray
    need_recovery_rate: np.ndarray
    group_recovery_boost: np.ndarray
    shock_size: np.ndarray
    outreach_awareness_rate: np.ndarray
    social_awareness_rate: np.ndarray
    cd_awareness_rate: np.ndarray
    awareness_decay: np.ndarray
    referral_need_threshold: np.ndarray
    referral_weeks: np.ndarray  # whole weeks
    link_worker_awareness_gain: np.ndarray
    dropout_rate: np.ndarray
    dropout_capacity_effect: np.ndarray
    dropout_memory_weeks: np.ndarray  # whole weeks
    follow_up_capacity_boost: np.ndarray
    referral_boost_followed: np.ndarray
    referral_boost_unfollowed: np.ndarray
    reengage_factor: np.ndarray
    need_motivation: np.ndarray
    uptake_rate: np.ndarray
    social_pull: np.ndarray


class WellbeingParams(NamedTuple):
    """The numbers rule 5 reads, one value per replicate."""

    cd_capacity_gain: np.ndarray
    benefit_build_rate: np.ndarray
    benefit_decay_rate: np.ndarray
    belonging_build_rate: np.ndarray
    belonging_decay_rate: np.ndarray
    green_visit_share: np.ndarray
    green_space_effect: np.ndarray
    need_wellbeing_penalty: np.ndarray
    wellbeing_adjust_rate: np.ndarray


class TieParams(NamedTuple):
    """The numbers rule 6 reads, one value per replicate."""

    group_tie_decay_rate: np.ndarray
    group_tie_rate: np.ndarray


#: Parameters read as whole numbers (weeks); the others as float64, as numpy reads them.
WHOLE = frozenset({"referral_weeks", "dropout_memory_weeks"})


def params_for(kind: type[NamedTuple], params: Sequence[Any]) -> NamedTuple:
    """The named tuple ``kind`` filled from the replicates' ``params`` (one
    :class:`~abm.model.parameters.Params` each): each field an array of their values, in
    replicate order (an engine builds it once per run)."""
    return kind(*(np.array([p[name] for p in params],
                           dtype=np.int64 if name in WHOLE else np.float64)
                  for name in kind._fields))


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
def decide(p, per, week, hood, capacity, p_shock, p_drop, belonging, need, need_untouched,
           awareness, state, state_until, followed_up, provider, came_by_referral, pull,
           cd_level, cd_any, u_shock, u_act, u_ref, outreach, access, referral_prob,
           follow_up_share, cand_indptr, cand_indices, cand_data, cand_totals):
    """Rules 1-4 for every resident, in place, as ``ResidentState.decide`` (``pull``
    already worked out for this week; ``cd_level`` after rule 0). Residents come replicate
    after replicate, ``per`` each; ``p`` (:class:`DecideParams`) and ``follow_up_share`` hold
    one value per replicate. The candidates matrix [neighbourhood, provider] comes as its
    ``indptr``, ``indices`` and ``data`` and each row's sum (:func:`row_sums`); a chooser
    picks the first provider of their row whose running sum (from 0 at the row) exceeds
    ``v`` x the row's sum, as ``pick_providers``. Returns (starters, picks)."""
    n = len(hood)
    starters = np.empty(n, dtype=np.int64)
    picks = np.empty(n, dtype=np.int32)
    count = 0
    for r in range(n // per if per else 0):
        cd_capacity_gain, shock_size = p.cd_capacity_gain[r], p.shock_size[r]
        protection, boost_rate = p.group_shock_protection[r], p.group_recovery_boost[r]
        recovery_rate = p.need_recovery_rate[r]
        for i in range(r * per, (r + 1) * per):
            h = hood[i]
            capacity_now = (min(capacity[i] + cd_capacity_gain * cd_level[h], 1.0) if cd_any
                            else capacity[i])
            # 1. Needs and shocks.
            b = belonging[i]
            shocked = u_shock[i] < p_shock[i] * (1 - protection * b)
            recovery = min(recovery_rate * (1 + boost_rate * b), 1.0)
            need[i] = min(need[i] * (1 - recovery) + (shock_size if shocked else 0.0), 1.0)
            shocked = u_shock[i] < p_shock[i]
            need_untouched[i] = min(need_untouched[i] * (1 - recovery_rate)
                                    + (shock_size if shocked else 0.0), 1.0)
            # 2. Awareness and trust.
            a = awareness[i]
            gain = (p.outreach_awareness_rate[r] * outreach[h]
                    + p.social_awareness_rate[r] * pull[i])
            if cd_any:
                gain = gain + p.cd_awareness_rate[r] * cd_level[h]
            awareness[i] = a + gain * (1 - a) - p.awareness_decay[r] * a
            # 3. Referral.
            s = state[i]
            if s in (REFERRED, DROPPED_OUT) and week >= state_until[i]:
                s = NOT_ENGAGED
            p_ref = referral_prob[h]
            if (s in (NOT_ENGAGED, DROPPED_OUT) and need[i] > p.referral_need_threshold[r]
                    and u_ref[i] < p_ref):
                s = REFERRED
                state_until[i] = week + p.referral_weeks[r]
                followed_up[i] = u_ref[i] / p_ref < follow_up_share[r]
                a = awareness[i]
                awareness[i] = a + p.link_worker_awareness_gain[r] * (1 - a)
            # 4. Engagement.
            if s == ATTENDING:
                chance = p_drop[i] if not cd_any else p.dropout_rate[r] * (
                    1 + p.dropout_capacity_effect[r] * (1 - capacity_now))
                if u_act[i] < chance:
                    s = DROPPED_OUT
                    provider[i] = -1
                    came_by_referral[i] = False
                    state_until[i] = week + p.dropout_memory_weeks[r]
                state[i] = s
                continue
            state[i] = s
            helped = s == REFERRED and followed_up[i]
            cap = (min(capacity_now + p.follow_up_capacity_boost[r], 1.0) if helped
                   else capacity_now)
            if helped:
                boost = p.referral_boost_followed[r]
            elif s == REFERRED:
                boost = p.referral_boost_unfollowed[r]
            elif s == DROPPED_OUT:
                boost = p.reengage_factor[r]
            else:
                boost = 1.0
            motivation = (1 + p.need_motivation[r] * need[i]) / (1 + p.need_motivation[r])
            p_start = min(p.uptake_rate[r] * awareness[i] * cap * motivation * access[h]
                          * (1 + p.social_pull[r] * pull[i]) * boost, 1.0)
            if u_act[i] < p_start:
                target = u_act[i] / p_start * cand_totals[h]
                start, end = cand_indptr[h], cand_indptr[h + 1]
                slot = end - 1  # rounding must not run past the row's end
                running = 0.0
                for k in range(start, end):
                    running += cand_data[k]
                    if running > target:
                        slot = k
                        break
                starters[count] = i
                picks[count] = cand_indices[slot]
                count += 1
    return starters[:count], picks[:count]


@nb.njit(**_JIT)
def candidates(reached_indptr, reached_indices, reached_data, slot_hood, with_space, n_hoods):
    """The week's candidates matrix [neighbourhood, provider slot] in CSR form (indptr,
    indices, data), as ``access @ located`` then ``sort_indices`` give it
    (``engines.reachable_providers``): row h holds, in slot order, each slot j of
    ``with_space`` (ascending) that h reaches, with value access[h, hood of j] (entries
    whose access is 0 left out, as scipy's product leaves zeros out). ``reached_*``:
    ``access`` transposed, in CSR form (row k: the neighbourhoods reaching k). Two passes
    over the slots, count then fill, so each row comes out in slot order without a sort."""
    counts = np.zeros(n_hoods + 1, dtype=np.int64)
    for j in with_space:
        k = slot_hood[j]
        for position in range(reached_indptr[k], reached_indptr[k + 1]):
            if reached_data[position] != 0:
                counts[reached_indices[position] + 1] += 1
    indptr = np.cumsum(counts).astype(np.int32)
    fill = indptr[:-1].copy()
    indices = np.empty(indptr[-1], dtype=np.int32)
    data = np.empty(indptr[-1], dtype=np.float64)
    for j in with_space:
        k = slot_hood[j]
        for position in range(reached_indptr[k], reached_indptr[k + 1]):
            value = reached_data[position]
            if value != 0:
                h = reached_indices[position]
                indices[fill[h]] = j
                data[fill[h]] = value
                fill[h] += 1
    return indptr, indices, data


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
def update_wellbeing(p, per, week, hood, capacity, cd_level, cd_any, green_access, baseline,
                     state, provider, effect, kind, need, benefit, belonging, green_benefit,
                     wellbeing, last_attended):
    """Rule 5 for every resident, in place (``ResidentState.update_wellbeing``); residents
    replicate after replicate, ``per`` each, ``p`` (:class:`WellbeingParams`) one value per
    replicate."""
    for r in range(len(hood) // per if per else 0):
        build, decay = p.benefit_build_rate[r], p.benefit_decay_rate[r]
        for i in range(r * per, (r + 1) * per):
            attending = state[i] == ATTENDING
            h = hood[i]
            if attending:
                last_attended[i] = week
            b = benefit[i]
            j = provider[i]
            if attending:
                benefit[i] = b + build * (effect[j] - b)
            else:
                benefit[i] = b - decay * b
            g = belonging[i]
            if attending:
                belonging[i] = g + p.belonging_build_rate[r] * (1 - g)
            else:
                belonging[i] = g - p.belonging_decay_rate[r] * g
            if attending and kind[j] == NATURE:
                visits = 1.0
            else:
                capacity_now = (min(capacity[i] + p.cd_capacity_gain[r] * cd_level[h], 1.0)
                                if cd_any else capacity[i])
                visits = p.green_visit_share[r] * capacity_now
            green = p.green_space_effect[r] * green_access[h] * visits
            green_benefit[i] = green_benefit[i] + build * (green - green_benefit[i])
            target = (baseline[i] - p.need_wellbeing_penalty[r] * need[i] + benefit[i]
                      + green_benefit[i])
            w = wellbeing[i]
            wellbeing[i] = min(max(w + p.wellbeing_adjust_rate[r] * (target - w), 0.0), 10.0)


@nb.njit(**_JIT)
def update_ties(p, per, state, provider, friends, strength, u_tie, n_providers):
    """Rule 6 for every resident, in place (``ResidentState.update_ties``): ties made in
    groups stay at full strength while both attend the same group and fade otherwise (gone
    below :data:`TIE_GONE`); attenders with ``u_tie < group_tie_rate`` make a tie with
    another attender of their group, chosen by rank among the group's attenders in resident
    order. Residents replicate after replicate, ``per`` each; ``p`` (:class:`TieParams`)
    one value per replicate; ``n_providers``: provider slots (all replicates')."""
    n = len(state)
    for i in range(n):
        decay_rate = p.group_tie_decay_rate[i // per]
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
            if s < TIE_GONE:
                friends[i, k] = -1
                s = 0.0
            strength[i, k] = s
    # Attenders grouped by provider, in resident order within a group (a counting sort:
    # the numpy rule's stable argsort).
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
        tie_rate = p.group_tie_rate[i // per]
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


# --- sums in numpy's order --------------------------------------------------------------
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
def std(a, start, n):
    """``a[start:start + n].std()`` as numpy works it out, also for each row of an
    ``(R, n)`` array's ``std(axis=1)``: the mean and the squared deviations pairwise-summed."""
    mean = pairwise_sum(a, start, n) / n
    squares = np.empty(n)
    for k in range(n):
        d = a[start + k] - mean
        squares[k] = d * d
    return np.sqrt(pairwise_sum(squares, 0, n) / n)


# --- the accounts' weekly sums -------------------------------------------------------------
class AccountParams(NamedTuple):
    """The numbers the accounts' weekly sums read, one value per replicate."""

    referral_need_threshold: np.ndarray
    need_wellbeing_penalty: np.ndarray
    gp_consultations_per_year: np.ndarray
    gp_deprivation_effect: np.ndarray
    gp_need_effect: np.ndarray
    sp_gp_effect: np.ndarray
    ae_attendances_least_deprived: np.ndarray
    ae_deprivation_effect: np.ndarray
    ae_need_effect: np.ndarray
    sp_ae_effect: np.ndarray


#: Columns of :func:`week_sums`, as ``Accounts.week`` names them.
WEEK_SUMS = ("wellbeing", "gp", "ae", "attending", "dropped", "in_need", "referred",
             "followed_up", "started", "attending_12w", "referred_attending",
             "referred_benefit")


@nb.njit(**_JIT)
def week_sums(p, per, key, n_keys, week, still_weeks, state, came_by_referral, followed_up,
              start_week, attending_before, dropped, new_referrals, deprivation, need,
              wellbeing, benefit):
    """One pass over residents for a policy week's accounts (``Accounts.week``): per key
    (replicate x 10 + decile), the sums named in :data:`WEEK_SUMS`, each added in resident
    order as the numpy path's product with the decile matrix adds them (NHS use as
    ``Accounts.nhs_use`` works it out); and per replicate the counts of new referrals,
    followed-up ones, and referred starters followed up and not."""
    sums = np.zeros((n_keys, len(WEEK_SUMS)))
    counts = np.zeros((len(key) // per if per else 0, 4), dtype=np.int64)
    for r in range(len(key) // per if per else 0):
        gp_rate = p.gp_consultations_per_year[r] / WEEKS_PER_YEAR
        ae_rate = p.ae_attendances_least_deprived[r] / WEEKS_PER_YEAR
        for i in range(r * per, (r + 1) * per):
            k = key[i]
            attending = state[i] == ATTENDING
            referred_attending = attending and came_by_referral[i]
            referred = 1.0 if referred_attending else 0.0
            gp = (gp_rate * (1 + p.gp_deprivation_effect[r] * deprivation[i])
                  * (1 + p.gp_need_effect[r] * need[i]) * (1 + p.sp_gp_effect[r] * referred))
            ae = (ae_rate * (1 + p.ae_deprivation_effect[r] * deprivation[i])
                  * (1 + p.ae_need_effect[r] * need[i]) * (1 + p.sp_ae_effect[r] * referred))
            new = new_referrals[i]
            started = referred_attending and not attending_before[i]
            sums[k, 0] += wellbeing[i]
            sums[k, 1] += gp
            sums[k, 2] += ae
            sums[k, 3] += 1.0 if attending else 0.0
            sums[k, 4] += 1.0 if dropped[i] else 0.0
            sums[k, 5] += 1.0 if need[i] > p.referral_need_threshold[r] else 0.0
            sums[k, 6] += 1.0 if new else 0.0
            sums[k, 7] += 1.0 if new and followed_up[i] else 0.0
            sums[k, 8] += 1.0 if started else 0.0
            sums[k, 9] += 1.0 if referred_attending and start_week[i] == week - still_weeks \
                else 0.0
            sums[k, 10] += referred
            sums[k, 11] += benefit[i] * referred
            if new:
                counts[r, 0] += 1
                counts[r, 1] += followed_up[i]
            if started:
                counts[r, 2 if followed_up[i] else 3] += 1
    return sums, counts


#: Columns of :func:`metric_sums`' sums by key, as ``Accounts.weekly_metrics`` names them.
METRIC_SUMS = ("wellbeing", "past_year", "connected", "gap_part_baseline",
               "gap_part_need_untouched", "gap_part_need_assets", "gap_part_benefit",
               "gap_part_green", "gap_part_lag")


@nb.njit(**_JIT)
def metric_sums(p, per, key, n_keys, third_key, n_thirds, past_year_from, low_threshold,
                state, wellbeing, last_attended, pull, baseline, need, need_untouched, benefit,
                green_benefit, friends):
    """One pass over residents for the weekly metrics' per-resident sums
    (``Accounts.weekly_metrics``), each added in resident order as numpy adds it. Returns
    (sums by key named in :data:`METRIC_SUMS`, residents by key and engagement state, low
    life satisfaction by third key, and per replicate: the standard deviation of wellbeing,
    residents in need, ties made in groups)."""
    replicates = len(key) // per if per else 0
    sums = np.zeros((n_keys, len(METRIC_SUMS)))
    states = np.zeros((n_keys, 4), dtype=np.int64)
    low = np.zeros(n_thirds)
    sd = np.zeros(replicates)
    in_need = np.zeros(replicates, dtype=np.int64)
    ties = np.zeros(replicates, dtype=np.int64)
    for r in range(replicates):
        penalty, threshold = p.need_wellbeing_penalty[r], p.referral_need_threshold[r]
        for i in range(r * per, (r + 1) * per):
            k = key[i]
            w = wellbeing[i]
            sums[k, 0] += w
            sums[k, 1] += 1.0 if last_attended[i] > past_year_from else 0.0
            sums[k, 2] += 1.0 if pull[i] > 0 else 0.0
            sums[k, 3] += baseline[i]
            sums[k, 4] += -penalty * need_untouched[i]
            sums[k, 5] += -penalty * (need[i] - need_untouched[i])
            sums[k, 6] += benefit[i]
            sums[k, 7] += green_benefit[i]
            target = baseline[i] - penalty * need[i] + benefit[i] + green_benefit[i]
            sums[k, 8] += w - target
            states[k, state[i]] += 1
            low[third_key[i]] += 1.0 if w < low_threshold else 0.0
            in_need[r] += need[i] > threshold
            for slot in range(friends.shape[1]):
                ties[r] += friends[i, slot] >= 0
        sd[r] = std(wellbeing, r * per, per)
    return sums, states, low, sd, in_need, ties
