# ruff: noqa - written as PyTorch user code is written
# Metric learning as research code writes it: a siamese network in the shape of
# pytorch/examples' siamese_network (shared CNN tower, torch.cat of the two embeddings,
# a head with Sigmoid, BCELoss), a contrastive loss on F.pairwise_distance, triplet
# training with nn.TripletMarginLoss and nn.TripletMarginWithDistanceLoss (cosine),
# CosineEmbeddingLoss, and SimCLR's NT-Xent: F.normalize, a similarity matrix divided by
# a temperature, the diagonal masked with torch.eye(..).bool() and -inf/-9e15, positives
# picked with torch.roll of an arange, cross_entropy against those indices, plus
# top-1/top-5 accuracies with argsort.
import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
import torch.optim as optim

rng = np.random.default_rng(78)


def fill(module, scale=0.3):
    with torch.no_grad():
        for p in module.parameters():
            p.copy_(torch.from_numpy(rng.normal(0, scale, tuple(p.shape)).astype(np.float32)))


class SiameseNetwork(nn.Module):
    def __init__(self):
        super(SiameseNetwork, self).__init__()
        self.tower = nn.Sequential(
            nn.Conv2d(1, 4, kernel_size=3, padding=1), nn.BatchNorm2d(4), nn.ReLU(inplace=True),
            nn.MaxPool2d(2), nn.Conv2d(4, 8, kernel_size=3), nn.ReLU(inplace=True),
            nn.AdaptiveAvgPool2d((1, 1)))
        self.fc = nn.Sequential(nn.Linear(8 * 2, 16), nn.ReLU(inplace=True), nn.Linear(16, 1))
        self.sigmoid = nn.Sigmoid()

    def forward_once(self, x):
        output = self.tower(x)
        output = output.view(output.size()[0], -1)
        return output

    def forward(self, input1, input2):
        output1 = self.forward_once(input1)
        output2 = self.forward_once(input2)
        output = torch.cat((output1, output2), 1)
        output = self.fc(output)
        output = self.sigmoid(output)
        return output, output1, output2


images = torch.from_numpy(rng.standard_normal((16, 1, 8, 8)).astype(np.float32))
classes = torch.from_numpy(np.arange(16) % 4)
pairs = torch.from_numpy(rng.permutation(16))
same = (classes == classes[pairs]).float()
net = SiameseNetwork()
fill(net)
optimizer = optim.Adadelta(net.parameters(), lr=1.0)
scheduler = optim.lr_scheduler.StepLR(optimizer, step_size=1, gamma=0.7)
criterion = nn.BCELoss()
siamese = []
for epoch in range(3):
    net.train()
    optimizer.zero_grad()
    outputs, e1, e2 = net(images, images[pairs])
    outputs = outputs.squeeze()
    loss = criterion(outputs, same)
    distance = F.pairwise_distance(e1, e2, keepdim=True)
    margin = 2.0
    contrastive = torch.mean(same.unsqueeze(1) * torch.pow(distance, 2) +
                             (1 - same.unsqueeze(1)) * torch.pow(torch.clamp(margin - distance, min=0.0), 2))
    (loss + 0.1 * contrastive).backward()
    optimizer.step()
    scheduler.step()
    net.eval()
    with torch.no_grad():
        pred = torch.where(net(images, images[pairs])[0].squeeze() > 0.5, 1, 0)
        correct = pred.eq(same.view_as(pred)).sum().item()
    siamese.append((loss.item(), contrastive.item(), correct))

embed = nn.Sequential(nn.Linear(10, 16), nn.ReLU(), nn.Linear(16, 6))
fill(embed)
anchor, positive, negative = (torch.from_numpy(rng.standard_normal((12, 10)).astype(np.float32))
                              for _ in range(3))
positive = anchor + 0.3 * positive
triplet_loss = nn.TripletMarginLoss(margin=1.0, p=2, swap=True)
cosine_triplet = nn.TripletMarginWithDistanceLoss(
    distance_function=lambda x, y: 1.0 - F.cosine_similarity(x, y), margin=0.4)
cos_embed = nn.CosineEmbeddingLoss(margin=0.2, reduction='sum')
opt2 = optim.SGD(embed.parameters(), lr=0.05, momentum=0.9)
triplets = []
for step in range(8):
    opt2.zero_grad()
    a, p, n = embed(anchor), embed(positive), embed(negative)
    y = torch.cat([torch.ones(6), -torch.ones(6)])
    loss = (triplet_loss(a, p, n) + cosine_triplet(a, p, n)
            + 0.1 * cos_embed(a, torch.cat([p[:6], n[6:]]), y))
    loss.backward()
    opt2.step()
    triplets.append(loss.item())


def info_nce_loss(features, n_views=2, temperature=0.5):
    batch_size = features.shape[0] // n_views
    labels = torch.cat([torch.arange(batch_size) for i in range(n_views)], dim=0)
    labels = (labels.unsqueeze(0) == labels.unsqueeze(1)).float()
    features = F.normalize(features, dim=1)
    similarity_matrix = torch.matmul(features, features.T)
    mask = torch.eye(labels.shape[0], dtype=torch.bool)
    labels = labels[~mask].view(labels.shape[0], -1)
    similarity_matrix = similarity_matrix[~mask].view(similarity_matrix.shape[0], -1)
    positives = similarity_matrix[labels.bool()].view(labels.shape[0], -1)
    negatives = similarity_matrix[~labels.bool()].view(similarity_matrix.shape[0], -1)
    logits = torch.cat([positives, negatives], dim=1)
    labels = torch.zeros(logits.shape[0], dtype=torch.long)
    logits = logits / temperature
    return logits, labels


def nt_xent(z1, z2, tau=0.5):
    z = F.normalize(torch.cat([z1, z2]), p=2, dim=-1)
    sim = z @ z.t() / tau
    sim.masked_fill_(torch.eye(z.shape[0], dtype=torch.bool), -9e15)
    n = z1.shape[0]
    targets = torch.roll(torch.arange(2 * n), shifts=n)
    return F.cross_entropy(sim, targets)


def accuracy(output, target, topk=(1,)):
    with torch.no_grad():
        maxk = max(topk)
        batch_size = target.size(0)
        _, pred = output.topk(maxk, 1, True, True)
        pred = pred.t()
        correct = pred.eq(target.view(1, -1).expand_as(pred))
        res = []
        for k in topk:
            correct_k = correct[:k].reshape(-1).float().sum(0, keepdim=True)
            res.append(correct_k.mul_(100.0 / batch_size))
        return res


projector = nn.Sequential(nn.Linear(10, 16), nn.BatchNorm1d(16), nn.ReLU(), nn.Linear(16, 8))
fill(projector)
opt3 = optim.Adam(projector.parameters(), lr=3e-3, weight_decay=1e-4)
views = torch.from_numpy(rng.standard_normal((8, 10)).astype(np.float32))
jitter = [torch.from_numpy(0.2 * rng.standard_normal((8, 10)).astype(np.float32)) for _ in range(2)]
simclr = []
for step in range(6):
    feats = projector(torch.cat([views + jitter[0], views + jitter[1]]))
    logits, labels = info_nce_loss(feats)
    loss = F.cross_entropy(logits, labels)
    other = nt_xent(feats[:8], feats[8:])
    opt3.zero_grad()
    (loss + other).backward()
    opt3.step()
    top1, top5 = accuracy(logits, labels, topk=(1, 5))
    simclr.append((loss.item(), other.item(), top1.item(), top5.item()))

RESULT = {"siamese": siamese, "triplets": triplets, "simclr": simclr,
          "embed": embed[2].weight, "proj": projector[1].running_var,
          "dist": F.pairwise_distance(anchor[:3], positive[:3], p=1.5),
          "cdist": torch.cdist(anchor[:3], negative[:4]),
          "lr": scheduler.get_last_lr()}
