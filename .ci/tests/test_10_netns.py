"""Two machines over a slow link, made of network namespaces (`sel_nb.netns`): the README's multi-node command on two
machines at 100 Mbit/s, the link's bytes against the hook's own count, one machine killed in the middle of a run,
`--resume` on both machines after it, one machine gone silent in the middle of a run (its cable pulled), a machine that
cannot reach the rendezvous, and the bandwidth sweep's folders and table (`sel_nb.bandwidth`). Needs root and iproute2;
elsewhere those tests skip with one line that says why, at collection too."""
import json, re, shutil, time
from pathlib import Path
import pandas as pd
import pytest
from sel_nb.netns import BIN, Cluster, run_job, torchrun_command, why_no_namespaces, failure_line, sh
from sel_nb.bandwidth import write_bandwidth
from sel_nb.bandwidth_sweep import sweep
from conftest import ROOT
from test_2_bench_cli import assert_same_rows

WHY = why_no_namespaces()  # never raises: a computer where `unshare` hangs or fails gets a skip, not a collection error
needs_namespaces = pytest.mark.skipif(WHY is not None, reason=f"no network namespaces: {WHY}")

RATE = '100mbit'
WAITS = dict(join_timeout=30, read_timeout=10)  # seconds: bounded waits, so that no test can hang
SMOKE = ['--preset', 'smoke', '--trial', '2', '--experiments', 'baseline', '--no-progress']  # two epochs of two steps
GUILT = ['--comm', 'guilt:0.005']  # the README's hook
KILL = 'kill@epoch,system=baseline,epoch=1'  # node1's process is killed once its first epoch is written

@pytest.fixture
def cluster():
    with Cluster(2, RATE) as c: yield c
    assert not [n for n in sh('ip', 'netns', 'list').split() if n.startswith(c.tag)], 'namespaces left behind'

def job(cluster, out, *extra, **kw): return run_job(cluster, [*SMOKE, '--out', out, *extra], timeout=120, **WAITS, **kw)

def docs_text():
    "The docs' Results page (`nbs/results.ipynb`), where the README's multi-node section lives now: its Markdown cells."
    return '\n'.join(''.join(c['source']) for c in json.loads((ROOT/'nbs'/'results.ipynb').read_text())['cells'] if c['cell_type'] == 'markdown')

def readme_command():
    "The documented multi-node command, its words up to `sel_bench`'s first argument."
    text = docs_text()
    cmd = re.search(r'^torchrun --nnodes .*?(?=\n\n|\n```)', text, re.M | re.S)[0].replace('\\\n', ' ')
    words = cmd.split()
    return words[:words.index('$(which') + 2]

def readme_variables():
    "The variables the README's multi-node section exports before its command."
    line = re.search(r'^export (.*?)(?:\s+#.*)?$', docs_text().split('### On several machines')[1], re.M)[1]
    return dict(w.split('=', 1) for w in line.split())

def what_ran(run):
    "A machine's variables and command as the harness started them: the words between `env` and `taskset -c CPUS`, and after."
    w = run.command
    i = w.index('taskset')
    return dict(v.split('=', 1) for v in w[w.index('env') + 1:i]), w[i + 3:]

def test_the_readme_command_is_the_one_the_harness_runs():
    words = [str(w) for w in torchrun_command(2, 'node0.example.org', [], run_id='sel-paper', nproc=8)]
    assert readme_command() == ['torchrun', *words[1:-1], '$(which', 'sel_bench)'], readme_command()

@needs_namespaces
def test_two_machines_at_100_mbits_run_the_readme_command(cluster, tmp_path):
    j = job(cluster, tmp_path/'out')
    assert j.ok, j.failures()
    variables, ran = what_ran(j.runs['node1'])  # checked on what ran, not on the template
    readme = readme_command()
    assert readme_variables().items() <= variables.items(), (readme_variables(), variables)
    assert Path(ran[0]).name == readme[0] and ran[len(readme) - 2] == shutil.which('sel_bench', path=str(BIN)), ran
    assert ran[1:len(readme) - 2:2] == readme[1:-2:2], ran  # the same options, in the same order
    filled = dict(zip(ran[1:len(readme) - 2:2], ran[2:len(readme) - 2:2]))
    assert filled['--nnodes'] == '2' and filled['--rdzv-backend'] == 'c10d' and filled['--rdzv-endpoint'] == 'node0:29500', filled
    assert [kv.split('=')[0] for kv in filled['--rdzv-conf'].split(',')] == ['join_timeout', 'read_timeout'], filled
    assert ran[len(readme) - 1:] == [str(a) for a in [*SMOKE, '--out', tmp_path/'out']], ran
    comm = json.loads((tmp_path/'out'/'seed0'/'final_baseline.json').read_text())['comm']
    assert comm['world'] == 2 and comm['hook'] == 'allreduce'
    assert 0 < comm['hook_seconds'] < pd.read_csv(tmp_path/'out'/'seed0'/'hist_baseline.csv').time_s.iloc[-1]
    assert (tmp_path/'out'/'comm.csv').exists() and 'on cpu × 2 processes' in j.runs['node0'].out
    sent = j.link['node1'][0]  # what node1 put on its link: its allreduce payload, the rendezvous, the start-up broadcasts
    assert comm['bytes_sent'] <= sent <= 3 * comm['bytes_sent'] + 2_000_000, (sent, comm['bytes_sent'])

@needs_namespaces
def test_a_machine_killed_mid_run_ends_the_other_in_one_line_and_resume_gives_the_whole_runs_rows(cluster, tmp_path):
    "With the guilt-sparse hook, as the README runs it: its residuals are in the checkpoint too."
    whole, killed = tmp_path/'whole', tmp_path/'killed'
    assert job(cluster, whole, *GUILT).ok
    j = job(cluster, killed, *GUILT, envs={'node1': dict(SEL_FAULT=KILL)})
    n0, n1 = j.runs['node0'], j.runs['node1']
    assert n1.status not in (0, None) and n0.status == 1, j.failures()
    assert n0.seconds <= n1.seconds + 20  # node0 saw node1 gone at its next collective, and did not hang
    said = [l for l in n0.err.splitlines() if l.startswith('sel_bench: error:')]
    assert said == [said[0]] and 'another rank is gone (' in said[0], n0.err[-3000:]
    assert 'sel_nb/' not in n0.err, 'a traceback from sel_nb, not one line'
    assert len(pd.read_csv(killed/'seed0'/'hist_baseline.csv')) == 1  # one epoch written before the kill
    assert json.loads((killed/'config.json').read_text())['nproc'] == 2  # the world of both machines, recorded
    r = job(cluster, killed, *GUILT, '--resume')
    assert r.ok, r.failures()
    assert_same_rows(killed, whole, ['baseline'], files=('hist', 'points'))

SILENT = 20  # seconds: the collective timeout of the silent-link test (a run's default is 300)

def epochs_written(hist): return max(0, len(hist.read_text().splitlines()) - 1) if hist.exists() else 0

@needs_namespaces
def test_a_machine_gone_silent_mid_run_ends_the_other_in_one_line_within_the_timeout_and_resume_continues(cluster, tmp_path):
    "node1's cable is pulled once the first epoch is written (no socket closed): node0 ends in one line, not after gloo's 30 minutes."
    out = tmp_path/'silent'
    args = ['--preset', 'smoke', '--experiments', 'baseline', '--set', 'baseline_epochs=4', '--no-progress', '--out', out]
    hist, cut = out/'seed0'/'hist_baseline.csv', []
    def pull_the_cable(ended):
        if not cut and epochs_written(hist) >= 1: cluster.silence(cluster.nodes[1]); cut.append(time.monotonic())
        return 'node0' in ended  # node0 is the one to watch; node1 is then killed
    t0 = time.monotonic()
    j = run_job(cluster, [*args, '--comm-timeout', SILENT], timeout=SILENT + 150, during=pull_the_cable, **WAITS)
    n0 = j.runs['node0']
    assert cut and epochs_written(hist) < 4, 'the cable was pulled before the first epoch or after the last'
    assert n0.status == 1, (n0.status, n0.err[-3000:])
    waited = t0 + n0.seconds - cut[0]
    print(f"node0 ended {waited:.1f} s after node1's cable was pulled (timeout {SILENT} s)")
    assert waited <= SILENT + 30, (waited, n0.err[-3000:])
    said = [l for l in n0.err.splitlines() if l.startswith('sel_bench: error:')]
    # gloo says either message, depending on whether the wait or the pair's own timer notices the silence first
    assert said == [said[0]] and re.search(rf'did not answer within the collective timeout \((Timed out waiting {SILENT * 1000}ms|Application timeout caused pair closure)', said[0]), n0.err[-3000:]
    assert 'sel_nb/' not in n0.err, 'a traceback from sel_nb, not one line'
    cluster.reconnect(cluster.nodes[1])
    r = run_job(cluster, [*args, '--resume'], timeout=150, **WAITS)
    assert r.ok, r.failures()
    assert epochs_written(hist) == 4 and (out/'seed0'/'final_baseline.json').exists()

@needs_namespaces
def test_a_machine_that_cannot_reach_the_rendezvous_fails_in_one_line(cluster, tmp_path):
    sh('ip', '-n', cluster.nodes[1].ns, 'link', 'set', 'eth0', 'down')  # node1's cable pulled
    j = job(cluster, tmp_path/'out')
    n0, n1 = j.runs['node0'], j.runs['node1']
    assert n1.status not in (0, None) and n1.seconds < WAITS['read_timeout'] + 30, (n1.status, n1.seconds)
    assert 'cannot reach the rendezvous at node0:29500' in failure_line(n1), (failure_line(n1), n1.err[-3000:])
    assert n0.status not in (0, None) and n0.seconds < WAITS['join_timeout'] + 30, (n0.status, n0.seconds)
    assert 'did not join the rendezvous in time' in failure_line(n0), (failure_line(n0), n0.err[-3000:])

@needs_namespaces
def test_the_sweep_runs_each_hook_in_its_folder_once_and_writes_the_table(tmp_path):
    args = dict(rates=('100mbit',), hooks=('allreduce', 'guilt:0.005'), seeds=(0,), preset='smoke', timeout=180, argv=('--trial', '2'))
    assert sweep(tmp_path, **args) == []
    assert sweep(tmp_path, **args) == []  # finished folders are skipped: one job each
    for hook in ('allreduce', 'guilt_0.005'):
        jobs = json.loads((tmp_path/'100mbit'/hook/'link.json').read_text())
        assert len(jobs) == 1 and jobs[0]['ok'] and jobs[0]['link']['node1']['sent'] > 0
    t = write_bandwidth(tmp_path).set_index('hook')
    assert list(t.index) == ['allreduce', 'guilt:0.005'] and (t.n == 1).all()
    assert (t.hook_ms > 0).all() and (t.hook_ms < t.step_ms).all()
    assert (t.link_per_step >= t.bytes_per_step).all()  # the link carries the payload and more
    assert t.time_ratio['allreduce'] == 1 and t.reach['allreduce'] == 1  # dense against itself
    assert {'bandwidth.txt', 'bandwidth.csv', 'bandwidth.png'} <= {f.name for f in tmp_path.iterdir()}
