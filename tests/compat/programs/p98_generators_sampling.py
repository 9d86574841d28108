# ruff: noqa - written as PyTorch user code is written
# Sampling with torch.Generator and the global seed: randperm, multinomial with and
# without replacement, bernoulli, normal, randint, rand, shuffling a dataset. The two
# libraries' streams differ, so this records what holds for any stream: shapes, dtypes,
# ranges, reproducibility under one seed, permutations being permutations.
import torch

out = {}
g = torch.Generator().manual_seed(1234)
out["seed"] = [g.initial_seed(), torch.Generator().manual_seed(7).initial_seed()]
state = g.get_state()
p1 = torch.randperm(10, generator=g)
g.set_state(state)
p2 = torch.randperm(10, generator=g)
out["perm"] = [str(p1.dtype), list(p1.shape), torch.equal(p1, p2), torch.equal(p1.sort().values, torch.arange(10)),
               torch.randperm(0).numel(), str(torch.randperm(5, dtype=torch.int32).dtype)]
g1 = torch.Generator().manual_seed(0)
g2 = torch.Generator().manual_seed(0)
out["same_seed"] = [torch.equal(torch.rand(3, 4, generator=g1), torch.rand(3, 4, generator=g2)),
                    torch.equal(torch.randn(5, generator=g1), torch.randn(5, generator=g2)),
                    torch.equal(torch.randint(0, 9, (6,), generator=g1), torch.randint(0, 9, (6,), generator=g2))]
probs = torch.tensor([[0.1, 0.0, 0.6, 0.3], [0.25, 0.25, 0.25, 0.25]])
draws = torch.multinomial(probs, 200, replacement=True, generator=g)
no_rep = torch.multinomial(probs, 3, replacement=False, generator=g)
weights = torch.tensor([1.0, 5.0, 0.0, 2.0])  # unnormalised, as people pass them
single = torch.multinomial(weights, 2)
past = torch.multinomial(torch.tensor([0.0, 3.0, 0.0, 1.0]), 3)  # more draws than positive weights
out["past_positive"] = [sorted(past[:2].tolist()), past[2].item() in (0, 2)]
out["multinomial"] = [list(draws.shape), str(draws.dtype), bool((draws[0] != 1).all()),
                      bool(((draws >= 0) & (draws < 4)).all()), list(no_rep.shape),
                      [len(set(r.tolist())) for r in no_rep], bool((no_rep[0] != 1).all()),
                      list(single.shape), bool((single != 2).all()), single[0].item() != single[1].item()]
p = torch.full((1000,), 0.3)
bern = torch.bernoulli(p, generator=g)
out["bernoulli"] = [str(bern.dtype), bool(((bern == 0) | (bern == 1)).all()),
                    bool(torch.bernoulli(torch.ones(5)).all()), bool((torch.bernoulli(torch.zeros(5)) == 0).all()),
                    bool((torch.empty(4).bernoulli_(0.0) == 0).all())]
nrm = torch.normal(mean=torch.full((500,), 3.0), std=torch.full((500,), 0.01), generator=g)
nrm2 = torch.normal(2.0, 0.5, size=(2, 3))
out["normal"] = [bool((nrm - 3).abs().max() < 0.1), list(nrm2.shape), str(nrm2.dtype)]
ri = torch.randint(3, 8, (4, 5), generator=g)
ri_like = torch.randint_like(ri, 2)
out["randint"] = [str(ri.dtype), bool(((ri >= 3) & (ri < 8)).all()), bool(((ri_like >= 0) & (ri_like < 2)).all()),
                  list(torch.randint(5, (3,)).shape)]
u = torch.rand(1000, generator=g)
out["rand"] = [bool(((u >= 0) & (u < 1)).all()), str(torch.rand(2, dtype=torch.float64).dtype),
               list(torch.randn(2, 3, generator=g).shape), bool((torch.empty(50).uniform_(-2, -1, generator=g) < -1).all()),
               bool((torch.empty(50).exponential_(generator=g) > 0).all()),
               bool(torch.empty(20).random_(0, 4).max() < 4), bool((torch.empty(9).normal_(5.0, 0.0) == 5.0).all())]
torch.manual_seed(3)
first = torch.rand(4)
torch.manual_seed(3)
again = torch.rand(4)
out["global_seed"] = [torch.equal(first, again), torch.initial_seed()]
data = torch.arange(20.0).view(10, 2)
shuffled = data[torch.randperm(10, generator=torch.Generator().manual_seed(5))]
out["shuffle"] = [shuffled.sum().item(), sorted(shuffled[:, 0].tolist()) == data[:, 0].tolist()]
RESULT = out
