# ruff: noqa - written as PyTorch user code is written
# A variational autoencoder in the shape of pytorch/examples' vae: fc encoder to mu and
# logvar, the reparameterization trick (eps drawn outside, so both runs see the same
# noise), a sigmoid decoder, BCE with reduction='sum' plus the analytic KL term, Adam,
# a test pass under no_grad, samples decoded from the prior, and torch.cat of a
# comparison grid.
import numpy as np
import torch
import torch.utils.data
from torch import nn, optim
from torch.nn import functional as F

rng = np.random.default_rng(71)
torch.manual_seed(1)
device = torch.device("cuda" if torch.cuda.is_available() else "cpu")


class VAE(nn.Module):
    def __init__(self):
        super(VAE, self).__init__()
        self.fc1 = nn.Linear(36, 20)
        self.fc21 = nn.Linear(20, 4)
        self.fc22 = nn.Linear(20, 4)
        self.fc3 = nn.Linear(4, 20)
        self.fc4 = nn.Linear(20, 36)

    def encode(self, x):
        h1 = F.relu(self.fc1(x))
        return self.fc21(h1), self.fc22(h1)

    def reparameterize(self, mu, logvar, eps):
        std = torch.exp(0.5 * logvar)
        return mu + eps * std

    def decode(self, z):
        h3 = F.relu(self.fc3(z))
        return torch.sigmoid(self.fc4(h3))

    def forward(self, x, eps):
        mu, logvar = self.encode(x.view(-1, 36))
        z = self.reparameterize(mu, logvar, eps)
        return self.decode(z), mu, logvar


model = VAE().to(device)
with torch.no_grad():
    for p in model.parameters():
        p.copy_(torch.from_numpy(rng.normal(0, 0.3, tuple(p.shape)).astype(np.float32)))
optimizer = optim.Adam(model.parameters(), lr=1e-2)


def loss_function(recon_x, x, mu, logvar):
    BCE = F.binary_cross_entropy(recon_x, x.view(-1, 36), reduction='sum')
    # 0.5 * sum(1 + log(sigma^2) - mu^2 - sigma^2)
    KLD = -0.5 * torch.sum(1 + logvar - mu.pow(2) - logvar.exp())
    return BCE + KLD


images = (rng.uniform(size=(48, 1, 6, 6)) > 0.6).astype(np.float32)
train_set = torch.utils.data.TensorDataset(torch.from_numpy(images[:40]))
test_set = torch.utils.data.TensorDataset(torch.from_numpy(images[40:]))
train_loader = torch.utils.data.DataLoader(train_set, batch_size=10, shuffle=False)
test_loader = torch.utils.data.DataLoader(test_set, batch_size=4, shuffle=False)

train_losses = []
for epoch in range(1, 4):
    model.train()
    train_loss = 0
    for batch_idx, (data,) in enumerate(train_loader):
        data = data.to(device)
        eps = torch.from_numpy(rng.standard_normal((data.size(0), 4)).astype(np.float32))
        optimizer.zero_grad()
        recon_batch, mu, logvar = model(data, eps)
        loss = loss_function(recon_batch, data, mu, logvar)
        loss.backward()
        train_loss += loss.item()
        optimizer.step()
    train_losses.append(train_loss / len(train_loader.dataset))

model.eval()
test_loss = 0
with torch.no_grad():
    for i, (data,) in enumerate(test_loader):
        mu, logvar = model.encode(data.view(-1, 36))
        recon_batch = model.decode(mu)
        test_loss += loss_function(recon_batch, data, mu, logvar).item()
        if i == 0:
            n = min(data.size(0), 8)
            comparison = torch.cat([data[:n], recon_batch.view(4, 1, 6, 6)[:n]])
    sample = torch.from_numpy(rng.standard_normal((5, 4)).astype(np.float32))
    sample = model.decode(sample).cpu()
test_loss /= len(test_loader.dataset)

RESULT = {"train": train_losses, "test": test_loss, "comparison": comparison,
          "sample": sample.view(5, 1, 6, 6), "fc1": model.fc1.weight}
