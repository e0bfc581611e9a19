"""The drop-ins of chapters 13_dropins, 13a_lightning and 13b_hf: RS2Sampler's cycles (one process, two simulated
ranks, two real ones), EmbarrassmentMetric synced over two gloo processes, a two-process Lightning fit on CPU with the
guilt-sparse hook, the FLOP budget in Lightning and in the Hugging Face Trainer, and the project's `Learner` against
Lightning with the drop-ins: the same per-class E, executed FLOPs, budget stop step, kept samples, masks and weights."""
import json, logging, math, os, socket, warnings
import pytest
import torch
import torch.distributed as dist
from torch.utils.data import DataLoader, TensorDataset
import lightning as L
from lightning.pytorch.strategies import DDPStrategy
from sel_nb.data import synthetic
from sel_nb.loader import DeviceLoader
from sel_nb.model import build_model, measure_flops
from sel_nb.embarrassment import EmbarrassmentMeter
from sel_nb.sparse import GuiltMask
from sel_nb.learner import Learner, MetricsCB, MeterCB, GuiltMaskCB
from sel_nb.callbacks import Callback, Phase, DensePhase
from sel_nb.measure import Accounting, AccountingCB
from sel_nb.budget import BudgetCB
from sel_nb.selective import SelectiveBackwardCB
from sel_nb.comm import bytes_per_step
from sel_nb.distributed import run_on_ranks, solo_group
from sel_nb.dropins import RS2Sampler
from sel_nb.lit import (EmbarrassmentMetric, LitClassifier, EmbarrassmentCallback, FlopBudgetCallback,
                        SelectiveBackpropCallback, GuiltMaskCallback, GuiltHookCallback)

logging.getLogger('lightning.pytorch').setLevel(logging.ERROR)
warnings.filterwarnings('ignore', '.*(does not have many workers|sync_dist|LightningModule.training_step|is not a DataLoader).*')

def bit_equal(a, b): return torch.equal(a.nan_to_num(-1.), b.nan_to_num(-1.))  # NaN (a class not seen) equals NaN
def flat(model): return torch.cat([p.detach().flatten() for p in model.parameters()])

def quiet_trainer(**kw):
    return L.Trainer(accelerator='cpu', logger=False, enable_checkpointing=False, enable_progress_bar=False,
                     enable_model_summary=False, **kw)

# --- RS2Sampler ---------------------------------------------------------------------------------------------------

@pytest.mark.parametrize('n,ratio', [(103, 0.3), (10, 0.5), (7, 1.0)])
def test_rs2_sampler_visits_each_index_once_per_cycle_also_across_two_ranks(n, ratio):
    per_cycle = math.ceil(1 / ratio)  # rounds in a cycle
    one = RS2Sampler(n, ratio, seed=5)
    two = [RS2Sampler(n, ratio, seed=5, rank=r, world=2) for r in range(2)]
    for cycle in range(2):
        alone, both = [], []
        for rnd in range(cycle * per_cycle, (cycle + 1) * per_cycle):
            alone += list(one)
            for s in two: s.set_epoch(rnd); both += list(s)
        assert sorted(alone) == list(range(n)) and sorted(both) == list(range(n))
    loader = DataLoader(TensorDataset(torch.arange(n)), batch_size=8, sampler=RS2Sampler(n, ratio, seed=5))
    seen = torch.cat([b[0] for _ in range(per_cycle) for b in loader])
    assert sorted(seen.tolist()) == list(range(n))

def test_rs2_sampler_padded_ranks_have_equal_counts_and_cover_the_round():
    ranks = [RS2Sampler(23, 0.5, seed=1, rank=r, world=2, pad=True) for r in range(2)]
    parts = [list(s) for s in ranks]
    assert len(parts[0]) == len(parts[1]) == 6 and set(parts[0] + parts[1]) == set(RS2Sampler(23, 0.5, seed=1))

# --- EmbarrassmentMetric synced over two processes ----------------------------------------------------------------

def batches(n=6, bs=10, k=4):
    g = torch.Generator().manual_seed(7)
    return [(torch.randn(bs, k, generator=g) * 3, torch.randint(0, k - 1, (bs,), generator=g)) for _ in range(n)]

def tiny_bert():
    from transformers import BertConfig, BertForSequenceClassification
    torch.manual_seed(0)
    return BertForSequenceClassification(BertConfig(vocab_size=30, hidden_size=16, num_hidden_layers=1, num_attention_heads=2,
                                                    intermediate_size=32, max_position_embeddings=16, num_labels=3))

def tiny_task(n=40):
    return [dict(input_ids=i, labels=int(i[0]) % 3) for i in torch.randint(3, 30, (n, 8), generator=torch.Generator().manual_seed(0))]

def hf_args(folder, **kw):
    from transformers import TrainingArguments
    return TrainingArguments(output_dir=folder, per_device_train_batch_size=8, report_to='none', use_cpu=True, save_strategy='no',
                             logging_strategy='no', disable_tqdm=True, lr_scheduler_type='constant', **kw)

def _two_rank_job(rank, folder, port):
    "One spawned rank: the metric synced over the two, then a Hugging Face Trainer run under DDP with the guilt hook."
    synced, alone = EmbarrassmentMetric(4), EmbarrassmentMetric(4, sync_on_compute=False)
    for i, (logits, y) in enumerate(batches()):
        alone.update(logits, y)
        if i % 2 == rank: synced.update(logits, y)  # each rank sees half of the batches
    (E2, C2), (E1, C1) = synced.compute(), alone.compute()  # compute syncs the states, then puts this rank's back
    # the Trainer joins the process group already made (Accelerate reads the usual variables)
    os.environ.update(RANK=str(rank), LOCAL_RANK=str(rank), WORLD_SIZE='2', MASTER_ADDR='127.0.0.1', MASTER_PORT=str(port))
    from transformers import Trainer
    from sel_nb.hf import GuiltHookTrainerCallback
    model = tiny_bert()
    tr = Trainer(model=model, args=hf_args(folder, max_steps=2, ddp_backend='gloo'), train_dataset=tiny_task(32))
    hook = GuiltHookTrainerCallback(tr, density=0.01); tr.add_callback(hook); tr.train()
    w = torch.cat([p.detach().flatten() for p in model.parameters()])
    got = [torch.empty_like(w) for _ in range(2)]; dist.all_gather(got, w)
    with open(os.path.join(folder, f'rank{rank}.json'), 'w') as f:
        json.dump(dict(E_synced=E2.tolist(), C_synced=C2.tolist(), E_alone=E1.tolist(), C_alone=C1.tolist(),
                       registered=hook.registered, same_weights=torch.equal(got[0], got[1]), steps=hook.state.iter,
                       bytes_sent=hook.state.bytes_sent, bytes_dense=hook.state.bytes_dense), f)

@pytest.fixture(scope='module')
def two_ranks(tmp_path_factory):
    "Both ranks' reports of one two-process job (one start-up of two processes serves two tests)."
    folder = tmp_path_factory.mktemp('two_ranks')
    with socket.socket() as s: s.bind(('127.0.0.1', 0)); port = s.getsockname()[1]
    run_on_ranks(_two_rank_job, 2, str(folder), port)
    return [json.loads((folder/f'rank{r}.json').read_text()) for r in range(2)]

def test_embarrassment_metric_synced_over_two_processes_equals_one_process(two_ranks):
    for rep in two_ranks:
        E2, E1, C2, C1 = (torch.tensor(rep[k]) for k in ('E_synced', 'E_alone', 'C_synced', 'C_alone'))
        assert E2[3].isnan() and E1[3].isnan()  # class 3 never appears, on either side
        # the sums are added in another order (rank 0's batches, then rank 1's): equal to float rounding
        assert torch.allclose(E2, E1, rtol=1e-6, atol=0, equal_nan=True) and torch.allclose(C2, C1, rtol=1e-6, atol=0, equal_nan=True)

def test_hf_trainer_under_ddp_uses_the_guilt_hook_and_its_ranks_agree(two_ranks):
    for rep in two_ranks:
        assert rep['registered'] and rep['same_weights'] and rep['steps'] == 2
        assert 0 < rep['bytes_sent'] < rep['bytes_dense'] / 10

# --- Lightning on two processes with the guilt-sparse hook -------------------------------------------------------

class RankReport(L.Callback):
    "Each rank writes what it saw and ended with: the samples of each round, its weights, its hook's bytes and steps."
    def __init__(self, folder): self.folder, self.seen = folder, {}
    def on_train_batch_start(self, trainer, pl_module, batch, batch_idx):
        self.seen.setdefault(trainer.current_epoch, []).extend(batch[2].tolist())
    def on_train_end(self, trainer, pl_module):
        hook = next(cb for cb in trainer.callbacks if isinstance(cb, GuiltHookCallback))
        budget = next(cb for cb in trainer.callbacks if isinstance(cb, FlopBudgetCallback)).budget
        r = trainer.global_rank
        torch.save(flat(pl_module), os.path.join(self.folder, f'weights{r}.pt'))
        with open(os.path.join(self.folder, f'rank{r}.json'), 'w') as f:
            json.dump(dict(seen=self.seen, spent=budget.spent, budget_steps=budget.meter.steps, registered=hook.registered, bytes_sent=hook.state.bytes_sent, bytes_dense=hook.state.bytes_dense,
                           steps=hook.state.iter), f)

def tiny_indexed_data(n=64, k=4):
    g = torch.Generator().manual_seed(0)
    return TensorDataset(torch.randn(n, 3, 16, 16, generator=g), torch.arange(n) % k, torch.arange(n))

def test_lightning_ddp_on_two_cpu_processes_uses_the_guilt_hook_and_its_ranks_agree(tmp_path):
    torch.manual_seed(0)
    model = build_model(n_classes=4, width=4, device='cpu')
    hook, per_sample = GuiltHookCallback(density=0.01), measure_flops(model, (3, 16, 16)).total
    budget = FlopBudgetCallback(72 * per_sample, lr=1e-3)  # the job trains 16 samples a step, 8 on each rank
    trainer = quiet_trainer(devices=2, strategy=DDPStrategy(start_method='spawn'), max_epochs=3,
                            use_distributed_sampler=False, callbacks=[hook, budget, RankReport(str(tmp_path))])
    trainer.fit(LitClassifier(build_model(n_classes=4, width=4, device='cpu')),
                DataLoader(tiny_indexed_data(), batch_size=8, sampler=RS2Sampler(64, 0.5, pad=True)))
    reports = [json.loads((tmp_path/f'rank{r}.json').read_text()) for r in range(2)]
    assert torch.equal(torch.load(tmp_path/'weights0.pt'), torch.load(tmp_path/'weights1.pt'))
    steps = reports[0]['steps']
    assert steps == reports[1]['steps'] == 5  # rounds of 32 samples, 2 steps each: the fifth step spends the budget
    # the budget, summed over the ranks by the strategy: the same spend on both, 16 samples a step
    assert all(rep['spent'] == 80 * per_sample and rep['budget_steps'] == 5 for rep in reports)
    # RS2 across the two real ranks: the two rounds of the first cycle see every sample exactly once
    seen = sorted(i for rep in reports for e in ('0', '1') for i in rep['seen'][e])
    assert seen == list(range(64))
    # the hook's bytes: the same per step as the project's measurement (`bytes_per_step`, DDPCB's hook)
    with solo_group():
        want = bytes_per_step(model, (torch.randn(8, 3, 16, 16), torch.randint(0, 4, (8,))), 'guilt', dict(density=0.01))
    for rep in reports:
        assert rep['registered']
        assert rep['bytes_sent'] / steps == want['bytes_per_step'] and rep['bytes_dense'] / steps == want['dense_per_step']
        assert rep['bytes_sent'] < rep['bytes_dense'] / 10

# --- the FLOP budget in Lightning and in the Hugging Face Trainer --------------------------------------------------

def test_lightning_flop_budget_stops_within_one_step_and_ends_at_the_schedules_last_value():
    torch.manual_seed(0)
    model = build_model(n_classes=4, width=4, device='cpu')
    per_sample = measure_flops(model, (3, 16, 16)).total
    fb = FlopBudgetCallback(150 * per_sample, lr=1e-2, end=0.2, warmup=0.1)  # epochs of 16+16+16+8 samples
    quiet_trainer(devices=1, max_epochs=20, callbacks=[fb]).fit(LitClassifier(model), DataLoader(tiny_indexed_data(56), batch_size=16))
    b = fb.budget
    assert len(b.meter.costs) == 2  # two kinds of step (16 and 8 samples), each measured once
    assert b.flops <= b.spent < b.flops + 16 * per_sample and b.spent - 16 * per_sample < b.flops
    assert b.spent == 160 * per_sample  # 56 + 56 + 16 + 16 + 16: the third batch of the third epoch spends it
    assert abs(float(fb.lrs[-1]) - 1e-2 * 0.2) < 1e-9

def test_hf_trainer_with_the_budget_callback_stops_at_the_budget(tmp_path):
    from transformers import Trainer
    from sel_nb.hf import FlopBudgetTrainerCallback
    model, data = tiny_bert(), tiny_task(40)
    probe = FlopBudgetTrainerCallback(1e30, lr=1e-3)
    Trainer(model=model, args=hf_args(str(tmp_path), max_steps=2), train_dataset=data, callbacks=[probe]).train()
    step = probe.budget.meter.total / probe.budget.meter.steps  # every step has the same kind: 8 sequences of 8 tokens
    fb = FlopBudgetTrainerCallback(11.2 * step, lr=1e-3, end=0.0, warmup=0.0)
    tr = Trainer(model=model, args=hf_args(str(tmp_path), num_train_epochs=50), train_dataset=data, callbacks=[fb]); tr.train()
    assert tr.state.global_step == 12 and fb.budget.spent == 12 * step  # the 12th step (of the 3rd epoch) spends it
    assert fb.lrs[-1] == 0.0

# --- the project's loop against Lightning with the drop-ins ------------------------------------------------------

class EpochE(Callback):
    "The project's side: each epoch's per-class E (MeterCB's) and each batch's kept samples."
    order = 100
    def __init__(self): self.E, self.kept, self.steps = [], [], 0
    def after_step(self): self.steps += 1
    def after_epoch(self): self.E.append(torch.tensor(self.learn.result.E))
    def after_batch(self):
        sel = next((cb for cb in self.learn.cbs if isinstance(cb, SelectiveBackwardCB)), None)
        if sel is not None: self.kept.append(sel.kept.tolist())

class LitEpochE(L.Callback):
    "Lightning's side: the same, from EmbarrassmentCallback and SelectiveBackpropCallback."
    def __init__(self): self.E, self.kept = [], []
    def on_train_epoch_end(self, trainer, pl_module):
        self.E.append(next(cb for cb in trainer.callbacks if isinstance(cb, EmbarrassmentCallback)).E.clone())
    def on_train_batch_end(self, trainer, pl_module, outputs, batch, batch_idx):
        sel = next((cb for cb in trainer.callbacks if isinstance(cb, SelectiveBackpropCallback)), None)
        if sel is not None: self.kept.append(sel.sb.kept.tolist())

def both_ways(budget_samples:float, selective:dict=None, mask:dict=None, lr=1e-2, bs=16):
    "The same model, data and seed trained by the project's Learner and by Lightning with the drop-ins."
    train, _ = synthetic(n_train=64, n_test=8, n_classes=4, channels=3, size=16, seed=0)
    torch.manual_seed(0)
    m1 = build_model(n_classes=4, in_channels=3, width=4, device='cpu')
    m2 = build_model(n_classes=4, in_channels=3, width=4, device='cpu'); m2.load_state_dict(m1.state_dict())
    acct = Accounting(m1, (3, 16, 16))
    flops = budget_samples * acct.per_sample.total
    mine, theirs = EpochE(), LitEpochE()
    cbs = [MetricsCB(), MeterCB(EmbarrassmentMeter(4)), AccountingCB(acct), BudgetCB(flops, lr), mine]
    cbs += [SelectiveBackwardCB(**selective)] if selective else []
    mask1, mask2 = (GuiltMask(**mask), GuiltMask(**mask)) if mask else (None, None)
    cbs += [GuiltMaskCB(mask1)] if mask else []
    learn = Learner(m1, cbs=cbs, train=train, lr=lr, bs=bs, seed=0)
    learn.fit([Phase('dense', DensePhase(torch.arange(64), epochs=50))])
    fb = FlopBudgetCallback(flops, lr)
    lcbs = [fb] + ([SelectiveBackpropCallback(4, **selective)] if selective else []) + ([GuiltMaskCallback(mask2)] if mask else [])
    lcbs += [EmbarrassmentCallback(4), theirs]
    quiet_trainer(devices=1, max_epochs=50, callbacks=lcbs).fit(LitClassifier(m2, lr), DeviceLoader(train, bs, shuffle=True, seed=0, device='cpu'))
    return dict(learn=learn, acct=acct, m1=m1, m2=m2, fb=fb, mine=mine, theirs=theirs, masks=(mask1, mask2), flops=flops)

def test_learner_and_lightning_give_the_same_E_flops_stop_step_masks_and_weights():
    r = both_ways(budget_samples=150, mask=dict(target=0.9))
    assert r['fb'].budget.meter.steps == r['mine'].steps == 10  # 16 samples a step: the 10th step spends the 150 samples' budget
    assert r['acct'].executed == r['fb'].budget.spent  # executed FLOPs, to the FLOP
    assert len(r['mine'].E) == len(r['theirs'].E) == 3
    assert all(bit_equal(a, b) for a, b in zip(r['mine'].E, r['theirs'].E))  # per-class E of every epoch, bit for bit
    assert torch.equal(r['masks'][0].kept, r['masks'][1].kept)  # the last epoch's kept gradient entries
    assert torch.equal(flat(r['m1']), flat(r['m2']))  # hence the same masks at every step: the same weights

@pytest.mark.parametrize('rule', ['loss', 'random'])
def test_learner_and_lightning_keep_the_same_samples_under_selective_backprop(rule):
    r = both_ways(budget_samples=150, selective=dict(keep=0.5, rule=rule, seed=1))
    assert r['mine'].kept == r['theirs'].kept and len(r['mine'].kept) == r['fb'].budget.meter.steps == r['mine'].steps
    assert r['acct'].executed == r['fb'].budget.spent  # the loss rule's scoring forwards included, on both sides
    assert all(bit_equal(a, b) for a, b in zip(r['mine'].E, r['theirs'].E))
    assert torch.equal(flat(r['m1']), flat(r['m2']))
