"""Training on two ranks (gloo on CPU, joined by a FileStore under `torch.multiprocessing` spawn by `run_on_ranks`, as
PyTorch's own DDP tests do, and under torchrun through `sel_bench --nproc 2`): the guilt-sparse hook against `allreduce_hook`, its error feedback,
identical weights on both ranks after every step for every registered system, and the files a distributed run writes."""
import io, json, os
import pandas as pd
import pytest
import torch
import torch.distributed as dist
from torch.nn.parallel import DistributedDataParallel
from torch.distributed.algorithms.ddp_comm_hooks import default_hooks
from sel_nb.data import load_dataset
from sel_nb.model import build_model
from sel_nb.learner import Learner, MetricsCB
from sel_nb.callbacks import Callback, Phase, DensePhase
from sel_nb.systems import SYSTEMS
from sel_nb.presets import PRESETS
from sel_nb.record import RunConfig, RunFolder
from sel_nb.runner import run_system
from sel_nb.distributed import DDPCB, run_on_ranks
from sel_nb.comm import GuiltSparseState, guilt_sparse_hook
from conftest import run
from test_2_bench_cli import SEL_BENCH, assert_same_rows

WORLD = 2

def on_two_ranks(fn, *args):
    "Run `fn(rank, *args)` on each of two gloo ranks (the library's `run_on_ranks`); a failed assertion on either fails the test."
    run_on_ranks(fn, WORLD, *args)

def same_on_every_rank(t:torch.Tensor):
    "Whether `t` is bit for bit the same on every rank."
    got = [torch.empty_like(t) for _ in range(WORLD)]
    dist.all_gather(got, t.contiguous())
    return all(torch.equal(got[0], g) for g in got[1:])

def flat(tensors): return torch.cat([t.detach().flatten().float() for t in tensors])

def batches(rank, n=5, bs=16):
    "Each rank's own batches: the ranks see different data, as they do in training."
    g = torch.Generator().manual_seed(100 + rank)
    return [(torch.randn(bs, 1, 16, 16, generator=g), torch.randint(0, 10, (bs,), generator=g)) for _ in range(n)]

def two_models(as_view):
    torch.manual_seed(0)
    a = build_model(10, 1, 4)
    b = build_model(10, 1, 4); b.load_state_dict(a.state_dict())
    return [DistributedDataParallel(m, gradient_as_bucket_view=as_view) for m in (a, b)]

def _all_kept_is_allreduce(rank, as_view):
    dense, sparse = two_models(as_view)
    dense.register_comm_hook(None, default_hooks.allreduce_hook)
    state = GuiltSparseState(density=1.0); state.bind(sparse.module)
    sparse.register_comm_hook(state, guilt_sparse_hook)
    opts = [torch.optim.SGD(m.parameters(), lr=0.1) for m in (dense, sparse)]
    for x, y in batches(rank):
        for m, o in zip((dense, sparse), opts):
            o.zero_grad(); torch.nn.functional.cross_entropy(m(x), y).backward()
        for p, q in zip(dense.parameters(), sparse.parameters()): assert torch.equal(p.grad, q.grad)
        for o in opts: o.step()

@pytest.mark.parametrize('as_view', [False, True])
def test_with_everything_kept_the_guilt_hook_gives_exactly_what_allreduce_hook_gives(as_view):
    on_two_ranks(_all_kept_is_allreduce, as_view)

def _sent_plus_residual(rank, as_view):
    model, _ = two_models(as_view)
    state, seen = GuiltSparseState(density=0.05), []
    state.bind(model.module)
    def watched(state, bucket):
        local, before = bucket.buffer().clone(), state.residual(bucket)
        fut = guilt_sparse_hook(state, bucket)
        after = state.residual(bucket)
        return fut.then(lambda f: seen.append((local, before, after, f.value().clone())) or f.value())
    model.register_comm_hook(state, watched)
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    for x, y in batches(rank):
        seen.clear(); opt.zero_grad(); torch.nn.functional.cross_entropy(model(x), y).backward()
        for local, before, after, mean in seen:
            sent = local + before - after  # what this rank put on the wire, if sent + residual = gradient + earlier residual
            assert (sent != 0).sum() <= state.n_sent(len(local)) and torch.equal((local + before)[sent != 0], sent[sent != 0])
            dist.all_reduce(sent)
            assert torch.equal(sent / WORLD, mean)  # the ranks' mean of what they sent is what the step uses
        opt.step()
    assert state.iter == len(batches(rank)) and state.bytes_sent < state.bytes_dense

@pytest.mark.parametrize('as_view', [False, True])
def test_sent_plus_residual_equals_the_local_gradient(as_view):
    on_two_ranks(_sent_plus_residual, as_view)

class SameWeightsCB(Callback):
    "Asserts after every step that both ranks hold the same weights (and, after every epoch, the same buffers)."
    order = 100
    def after_step(self): assert same_on_every_rank(flat(self.learn.model.parameters())), f'weights differ after step {self.learn.iter}'
    def after_epoch(self): assert same_on_every_rank(flat(self.learn.model.buffers())), 'buffers differ after the epoch'

def _every_system_agrees(rank, out, keys):
    p = PRESETS['smoke']
    data = load_dataset(p.dataset, **p.data)
    cfg = RunConfig(p, device='cpu', trial=3, progress=False, nproc=WORLD)
    for key in keys:
        final = run_system(key, cfg, 0, data, RunFolder(out), log=lambda *a: None, cbs=[SameWeightsCB()])
        assert final.status == 'done' and final.comm['world'] == WORLD

def test_both_ranks_hold_identical_weights_after_every_step_for_every_system(tmp_path):
    keys = tuple(k for k, s in SYSTEMS.items() if s.distributed and s.model in (None, PRESETS['smoke'].model))  # one process only: the per-class guilt threshold; head freezing needs the ViT
    on_two_ranks(_every_system_agrees, tmp_path, keys)
    assert sorted(p.name for p in (tmp_path/'seed0').glob('final_*.json')) == sorted(f'final_{k}.json' for k in keys)

def _learner_agrees(rank):
    train, _ = load_dataset('synthetic', n_train=200, n_test=20, channels=1, size=16)  # the same global batches on both ranks
    for kind in ('allreduce', 'fp16', 'powersgd', 'guilt'):
        for as_view in (False, True):
            torch.manual_seed(0)
            learn = Learner(build_model(10, 1, 4), train=train, bs=32, cbs=[MetricsCB(), DDPCB(kind, gradient_as_bucket_view=as_view), SameWeightsCB()])
            learn.fit([Phase('dense', DensePhase(torch.arange(200), 1))])
            assert learn.result.n == 200, (kind, as_view)  # each rank trained on its shard; the epoch's count is the whole job's

def test_each_hook_keeps_the_ranks_identical_with_and_without_bucket_views():
    on_two_ranks(_learner_agrees)

def through_a_checkpoint(obj):
    "`obj` saved as a checkpoint and read back as `load_checkpoint` reads it: tensors and plain data only."
    buf = io.BytesIO(); torch.save(obj, buf); buf.seek(0)
    return torch.load(buf, weights_only=True)

def _hook_states_survive_a_checkpoint(rank):
    train, _ = load_dataset('synthetic', n_train=128, n_test=20, channels=1, size=16)
    for kind, kw in (('allreduce', {}), ('fp16', {}), ('powersgd', dict(rank=1, start_iter=2)), ('guilt', dict(density=0.05))):
        torch.manual_seed(0)
        cb = DDPCB(kind, kw)
        Learner(build_model(10, 1, 4), train=train, bs=32, cbs=[MetricsCB(), cb]).fit([Phase('dense', DensePhase(torch.arange(128), 1))])
        saved = cb.state_dict()  # on every rank: it gathers
        back = DDPCB(kind, kw); back.load_state_dict(through_a_checkpoint(saved))
        assert back.state.iter == cb.state.iter == 4 and back.state.bytes_sent == cb.state.bytes_sent > 0, kind
        again = through_a_checkpoint(back.state.state_dict())
        for k, v in through_a_checkpoint(cb.state.state_dict()).items():
            assert str(again[k]) == str(v), (kind, k)  # residuals, PowerSGD's memories and random state: all back

def test_every_hooks_state_is_plain_data_and_comes_back_from_a_checkpoint():
    "What a distributed run's checkpoint holds for its hook loads with `weights_only=True` (no pickled objects), for every hook."
    on_two_ranks(_hook_states_survive_a_checkpoint)

class MakesAFile:
    "A pickle that calls `os.system` when it is loaded: what a checkpoint handed over by someone else may hold."
    def __init__(self, path): self.path = path
    def __reduce__(self): return (os.system, (f'touch {self.path}',))

def test_a_checkpoint_that_would_run_code_is_refused_in_one_line_and_nothing_runs(tmp_path):
    out, made = tmp_path/'out', tmp_path/'made_by_the_checkpoint'
    bench('--trial', 1, '--experiments', 'baseline', '--out', out)
    ckpt = out/'ckpt'/'seed0_baseline.pt'
    state = torch.load(ckpt, weights_only=True)
    torch.save(dict(state, status='running', extra=MakesAFile(made)), ckpt)
    r = bench('--trial', 1, '--experiments', 'baseline', '--out', out, '--resume', check=False)
    assert r.returncode == 2 and 'Traceback' not in r.stderr, r.stderr
    assert r.stderr.strip().splitlines() == [f"sel_bench: error: checkpoint {ckpt} is refused: loading it would call posix.system, "
        "not only read tensors and numbers, and nothing of it was run; it was not written by this sel_nb: remove it to restart "
        "this system from scratch"], r.stderr
    assert not made.exists() and ckpt.exists()

def bench(*args, **kw): return run([SEL_BENCH, '--preset', 'smoke', *map(str, args), '--no-progress'], **kw)

COMM_FILES = {'comm.csv', 'comm.txt', 'comm_bytes.png'}

def files(out): return {str(p.relative_to(out)) for p in out.rglob('*') if p.is_file() and not p.name.startswith('.')}

def test_torchrun_writes_the_files_a_single_process_writes(tmp_path):
    "Two systems, a dense one and a SEL one, each with the guilt-sparse hook (`--comm`, a run option): any system takes any hook."
    one, two = tmp_path/'one', tmp_path/'two'
    bench('--trial', 3, '--experiments', 'baseline', 'sel95', '--out', one)
    r = bench('--trial', 3, '--experiments', 'baseline', 'sel95', '--out', two, '--nproc', 2, '--comm', 'guilt:0.005')
    assert 'on cpu × 2 processes, guilt:0.005' in r.stdout + r.stderr
    assert files(two) == files(one) | COMM_FILES
    for key in ('baseline', 'sel95'):
        a, b = (pd.read_csv(d/'seed0'/f'hist_{key}.csv') for d in (one, two))
        assert list(a.columns) == list(b.columns) and len(a) == len(b)
    comm = pd.read_csv(two/'comm.csv', index_col=0)
    assert list(comm.hook) == ['guilt', 'guilt'] and (comm.compression > 50).all()  # 0.5% of the entries, with their indices
    assert (two/'command.txt').read_text().startswith('sel_bench --preset smoke --trial 3')
    assert json.loads((two/'config.json').read_text())['comm'] == 'guilt:0.005'

def test_resume_under_torchrun_continues_a_killed_run_to_the_same_rows(tmp_path):
    whole, killed = tmp_path/'whole', tmp_path/'killed'
    args = ('--experiments', 'baseline', '--nproc', 2, '--comm', 'guilt:0.005')
    bench(*args, '--out', whole)
    env = dict(os.environ, SEL_FAULT='kill@epoch,system=baseline,epoch=1')
    assert bench(*args, '--out', killed, env=env, check=False).returncode != 0
    assert len(pd.read_csv(killed/'seed0'/'hist_baseline.csv')) == 1  # one epoch written, then killed
    r = bench('--experiments', 'baseline', '--nproc', 2, '--out', killed, '--resume', check=False)  # another hook: refused
    assert r.returncode == 2 and r.stderr.strip().endswith(f'output folder {killed} holds a run with --comm guilt:0.005, not allreduce'), r.stderr
    bench(*args, '--out', killed, '--resume')
    assert_same_rows(killed, whole, ['baseline'], files=('hist', 'points'))

def test_a_bad_process_count_is_one_error_line(tmp_path):
    r = bench('--nproc', 0, '--out', tmp_path/'x', check=False)
    assert r.returncode == 2 and r.stderr.strip() == 'sel_bench: error: --nproc takes a number of processes, at least 1, got 0'
    assert not (tmp_path/'x').exists()
