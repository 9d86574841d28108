# ruff: noqa - written as PyTorch user code is written
# Graph message passing with scatter_reduce / index_reduce aggregations, a hidden Markov
# model's forward algorithm in log space, and torch.special, with gradients.
import numpy as np
import torch

rng = np.random.default_rng(56)
num_nodes, dim = 6, 4
edges = torch.tensor(rng.integers(0, num_nodes, (2, 14)))
src, dst = edges[0], edges[1]
h = torch.tensor(rng.standard_normal((num_nodes, dim)), dtype=torch.float32, requires_grad=True)
W = torch.tensor(rng.standard_normal((dim, dim)) * 0.5, dtype=torch.float32, requires_grad=True)
out = {}

messages = h[src] @ W                                        # (edges, dim)
index = dst.unsqueeze(1).expand(-1, dim)
agg = {
    "sum": torch.zeros(num_nodes, dim).scatter_reduce(0, index, messages, reduce="sum"),
    "mean": torch.zeros(num_nodes, dim).scatter_reduce(0, index, messages, reduce="mean",
                                                        include_self=False),
    "mean_self": h.scatter_reduce(0, index, messages, reduce="mean"),
    "amax": torch.full((num_nodes, dim), -1e4).scatter_reduce(0, index, messages, "amax"),
    "amin": h.scatter_reduce(0, index, messages, "amin", include_self=False),
    "index_mean": torch.zeros(num_nodes, dim).index_reduce(0, dst, messages, "mean",
                                                           include_self=False),
    "index_amax": h.index_reduce(0, dst, messages, "amax"),
    "scatter_add_": torch.zeros(num_nodes, dim).index_add(0, dst, messages),
}
deg = torch.zeros(num_nodes).scatter_add_(0, dst, torch.ones(dst.shape[0]))
x = h.clone()
x.scatter_reduce_(0, index, messages, reduce="amax", include_self=True)
agg["inplace_amax"] = x
h_new = torch.relu(agg["sum"] / deg.clamp(min=1).unsqueeze(1) + h) + agg["amax"].tanh()
loss_graph = h_new.pow(2).mean() + sum(a.sin().sum() for a in agg.values())
out["agg"], out["deg"] = agg, deg

# an HMM's forward algorithm in log space (logsumexp / logaddexp)
S, T = 3, 7
log_A = torch.tensor(rng.standard_normal((S, S)), dtype=torch.float64, requires_grad=True)
log_B = torch.tensor(rng.standard_normal((S, 4)), dtype=torch.float64, requires_grad=True)
log_pi = torch.log_softmax(torch.zeros(S, dtype=torch.float64), dim=0)
obs = torch.tensor(rng.integers(0, 4, T))
A_norm = torch.log_softmax(log_A, dim=1)
B_norm = log_B.log_softmax(1)
alpha = log_pi + B_norm[:, obs[0]]
for t in range(1, T):
    alpha = torch.logsumexp(alpha.unsqueeze(1) + A_norm, dim=0) + B_norm[:, obs[t]]
log_likelihood = torch.logsumexp(alpha, dim=0)
two_paths = torch.logaddexp(alpha[0], alpha[1]) + torch.logaddexp2(alpha[1], alpha[2])

# torch.special and friends on probabilities
p = torch.special.expit(h[:, 0])
special = {
    "expit": p, "logit": torch.special.logit(p, eps=1e-6), "entr": torch.special.entr(p),
    "xlogy": torch.special.xlogy(p, p), "xlog1py": torch.special.xlog1py(p, p),
    "ndtr": torch.special.ndtr(h[:, 1]), "log_ndtr": torch.special.log_ndtr(h[:, 1]),
    "erfc": torch.special.erfc(h[:, 2]), "softmax64": torch.special.softmax(h, 1, dtype=torch.float64),
    "sum64": h.sum(dtype=torch.float64), "mean64": h.mean(dim=0, dtype=torch.float64),
    "softmax_dtype": torch.softmax(h, dim=-1, dtype=torch.float64),
    "F.softmax_dtype": torch.nn.functional.softmax(h, dim=0, dtype=torch.float64),
    "log_softmax_dtype": torch.log_softmax(h, 1, dtype=torch.float64),
    "trapz": torch.trapezoid(h, dim=1), "cumtrapz": torch.cumulative_trapezoid(h, dx=0.5, dim=0),
    "trapz_x": torch.trapezoid(h, torch.tensor([0.0, 0.5, 1.5, 3.0]), dim=1),
    "rsub": torch.rsub(h, 1.0), "float_power": torch.float_power(h, 2),
    "renorm": h.renorm(2, 0, 1.5), "aminmax_min": torch.aminmax(h, dim=1).min,
    "aminmax_max": torch.aminmax(h).max,
    "nanmedian": torch.where(h > 1, float("nan"), h).nanmedian(dim=1).values,
    "nanquantile": torch.nanquantile(torch.where(h > 1, float("nan"), h), 0.25, dim=0),
    "swapdims": h.swapdims(0, 1), "ravel": h.ravel(), "hsplit": torch.hsplit(h, 2)[1],
    "vsplit": torch.vsplit(h, [1, 4])[1], "deg2rad": torch.deg2rad(h), "fix": h.fix(),
    "lgamma": torch.lgamma(h.abs() + 0.5), "digamma": h.exp().digamma(),
    "gammaln": torch.special.gammaln(p * 3), "psi": torch.special.psi(p + 1),
    "polygamma": torch.polygamma(1, h.abs() + 1), "erfinv": torch.erfinv(p - 0.5),
    "erfc_top": torch.erfc(h), "mvlgamma": torch.mvlgamma(h.abs() + 2, 2),
    "multigammaln": torch.special.multigammaln(p + 1, 1),
}
# a Beta log-density (lgamma) and a Poisson log-likelihood, as distribution code writes them
a_, b_ = h[:, 0].exp(), h[:, 1].exp()
u = torch.sigmoid(h[:, 2])
log_beta = torch.lgamma(a_ + b_) - torch.lgamma(a_) - torch.lgamma(b_) \
    + (a_ - 1) * torch.log(u) + (b_ - 1) * torch.log1p(-u)
counts = torch.tensor(rng.integers(0, 5, num_nodes), dtype=torch.float32)
rate = h[:, 3].exp()
poisson = counts * rate.log() - rate - torch.lgamma(counts + 1)
special["log_beta"], special["poisson"] = log_beta, poisson
out["special"] = special
out["plain"] = [torch.cartesian_prod(torch.tensor([1, 2]), torch.tensor([3, 4, 5])),
                torch.combinations(torch.tensor([4, 5, 6, 7]), r=3),
                torch.combinations(torch.tensor([1, 2]), with_replacement=True),
                h.is_same_size(h), torch.tensor([3]).is_nonzero(), h.sgn(), h.absolute(),
                torch.vander(h.detach()[:3, 0], N=3), torch.vander(torch.tensor([1, 2, 3]), increasing=True)]
loss = loss_graph + log_likelihood.float() + two_paths.float() + sum(
    v.float().nan_to_num().sum() for v in special.values())
loss.backward()
out["loglik"] = log_likelihood
out["grads"] = [h.grad, W.grad, log_A.grad, log_B.grad]
RESULT = out
