"""Each two-rank spawn test of `.ci/tests/test_6_distributed.py`, `n` times in a row in this process (every run spawns
its two ranks afresh), and the failures counted. Used by `.ci/stress`."""
import sys, tempfile, time, traceback
from pathlib import Path
sys.path.insert(0, str(Path(__file__).parent/'tests'))
import test_6_distributed as t

def spawn_tests():
    "The spawn tests with their parameters, as pytest runs them."
    yield 'everything_kept[False]', lambda: t.test_with_everything_kept_the_guilt_hook_gives_exactly_what_allreduce_hook_gives(False)
    yield 'everything_kept[True]', lambda: t.test_with_everything_kept_the_guilt_hook_gives_exactly_what_allreduce_hook_gives(True)
    yield 'sent_plus_residual[False]', lambda: t.test_sent_plus_residual_equals_the_local_gradient(False)
    yield 'sent_plus_residual[True]', lambda: t.test_sent_plus_residual_equals_the_local_gradient(True)
    yield 'every_system_identical_weights', lambda: t.test_both_ranks_hold_identical_weights_after_every_step_for_every_system(Path(tempfile.mkdtemp()))
    yield 'each_hook_identical', lambda: t.test_each_hook_keeps_the_ranks_identical_with_and_without_bucket_views()

def main(n:int):
    fails = {}
    for i in range(1, n + 1):
        for name, test in spawn_tests():
            t0 = time.perf_counter()
            try: test(); print(f"pass  {i} {name} ({time.perf_counter() - t0:.0f} s)", flush=True)
            except Exception:
                fails[name] = fails.get(name, 0) + 1
                print(f"FAIL  {i} {name}\n{traceback.format_exc(limit=3)}", flush=True)
    for name, _ in spawn_tests(): print(f"stress: {name}: {fails.get(name, 0)} failed of {n} runs")
    return 1 if fails else 0

if __name__ == '__main__': sys.exit(main(int(sys.argv[1]) if len(sys.argv) > 1 else 50))
