# ruff: noqa - written as PyTorch user code is written
# Every optimizer with its less common switches, param groups with their own settings,
# add_param_group mid-training, and a state_dict()/load_state_dict() round trip into a
# fresh optimizer halfway through (training then continues identically).
import numpy as np
import torch
import torch.nn as nn

rng = np.random.default_rng(32)
X = torch.from_numpy(rng.standard_normal((32, 4)).astype(np.float32))
Y = torch.from_numpy(rng.standard_normal((32, 2)).astype(np.float32))
start = [rng.normal(0, 0.4, s).astype(np.float32) for s in [(6, 4), (6,), (2, 6), (2,)]]


def make_model():
    model = nn.Sequential(nn.Linear(4, 6), nn.Tanh(), nn.Linear(6, 2))
    with torch.no_grad():
        for p, a in zip(model.parameters(), start):
            p.copy_(torch.from_numpy(a))
    return model


def loss_of(model):
    return nn.functional.mse_loss(model(X), Y)


CONFIGS = {
    "sgd_nesterov": lambda ps: torch.optim.SGD(ps, lr=0.05, momentum=0.9, nesterov=True),
    "sgd_dampening": lambda ps: torch.optim.SGD(ps, lr=0.05, momentum=0.8, dampening=0.3,
                                                weight_decay=0.01),
    "sgd_maximize": lambda ps: torch.optim.SGD(ps, lr=0.01, maximize=True),
    "adam_amsgrad": lambda ps: torch.optim.Adam(ps, lr=0.02, betas=(0.8, 0.95),
                                                amsgrad=True, weight_decay=0.01),
    "adam_maximize": lambda ps: torch.optim.Adam(ps, lr=0.01, maximize=True, eps=1e-6),
    "adamw": lambda ps: torch.optim.AdamW(ps, lr=0.02, weight_decay=0.1),
    "adamw_amsgrad": lambda ps: torch.optim.AdamW(ps, lr=0.02, amsgrad=True),
    "rmsprop": lambda ps: torch.optim.RMSprop(ps, lr=0.01, alpha=0.9),
    "rmsprop_centered": lambda ps: torch.optim.RMSprop(ps, lr=0.01, momentum=0.5,
                                                       centered=True, weight_decay=0.01),
    "adagrad": lambda ps: torch.optim.Adagrad(ps, lr=0.1, lr_decay=0.01,
                                              initial_accumulator_value=0.1),
    "adadelta": lambda ps: torch.optim.Adadelta(ps, lr=1.0, rho=0.8, weight_decay=0.01),
    "adamax": lambda ps: torch.optim.Adamax(ps, lr=0.02, weight_decay=0.01),
    "nadam": lambda ps: torch.optim.NAdam(ps, lr=0.02, momentum_decay=0.005),
    "nadam_decoupled": lambda ps: torch.optim.NAdam(ps, lr=0.02, weight_decay=0.05,
                                                    decoupled_weight_decay=True),
    "radam": lambda ps: torch.optim.RAdam(ps, lr=0.02),
    "radam_decoupled": lambda ps: torch.optim.RAdam(ps, lr=0.02, weight_decay=0.05,
                                                    decoupled_weight_decay=True),
    "rprop": lambda ps: torch.optim.Rprop(ps, lr=0.01, etas=(0.4, 1.3), step_sizes=(1e-4, 1)),
    "asgd": lambda ps: torch.optim.ASGD(ps, lr=0.02, t0=3),
}

results = {}
for name, build in CONFIGS.items():
    model = make_model()
    opt = build(model.parameters())
    losses = []
    for step in range(8):
        opt.zero_grad()
        loss = loss_of(model)
        loss.backward()
        opt.step()
        losses.append(loss.item())
        if step == 3:  # resume from a saved optimizer state
            saved = opt.state_dict()
            opt = build(model.parameters())
            opt.load_state_dict(saved)
    results[name] = {"losses": losses, "params": [p.detach().clone() for p in model.parameters()]}

# parameter groups: their own lr / momentum / weight decay; a group added later
model = make_model()
first, second = model[0], model[2]
opt = torch.optim.SGD([{"params": first.parameters(), "lr": 0.1},
                       {"params": [second.weight], "weight_decay": 0.1, "momentum": 0.5}],
                      lr=0.02, momentum=0.9)
group_losses = []
for step in range(6):
    if step == 3:
        opt.add_param_group({"params": [second.bias], "lr": 0.3})
    opt.zero_grad()
    loss = loss_of(model)
    loss.backward()
    opt.step()
    group_losses.append(loss.item())
groups = [{k: g[k] for k in ("lr", "momentum", "weight_decay", "dampening", "nesterov")}
          for g in opt.param_groups]
state = opt.state_dict()
RESULT = {"results": results, "group_losses": group_losses, "groups": groups,
          "state_groups": [g["params"] for g in state["param_groups"]],
          "state_keys": sorted(state["state"].keys()),
          "buffers": [state["state"][k]["momentum_buffer"] for k in sorted(state["state"])],
          "params": [p.detach().clone() for p in model.parameters()]}
