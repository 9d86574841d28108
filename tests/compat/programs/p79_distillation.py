# ruff: noqa - written as PyTorch user code is written
# Knowledge distillation as the tutorial and research code write it: a teacher trained
# first, then frozen in eval() under torch.no_grad(); a smaller student trained with
# soft targets (KL divergence of temperature-softened distributions times T**2, both
# with nn.KLDivLoss(reduction='batchmean') and with log_target=True) mixed with the
# hard-label cross entropy; cosine-similarity feature matching on hidden layers through
# a forward hook; and a test loop reporting argmax accuracy of both models.
import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
import torch.optim as optim
from torch.utils.data import DataLoader, TensorDataset

rng = np.random.default_rng(79)


def fill(module, scale=0.3):
    with torch.no_grad():
        for p in module.parameters():
            p.copy_(torch.from_numpy(rng.normal(0, scale, tuple(p.shape)).astype(np.float32)))


class DeepNN(nn.Module):
    def __init__(self, num_classes=4):
        super(DeepNN, self).__init__()
        self.features = nn.Sequential(nn.Linear(8, 32), nn.ReLU(), nn.Linear(32, 16), nn.ReLU())
        self.classifier = nn.Sequential(nn.Dropout(0.0), nn.Linear(16, num_classes))

    def forward(self, x):
        x = self.features(x)
        x = torch.flatten(x, 1)
        return self.classifier(x)


class LightNN(nn.Module):
    def __init__(self, num_classes=4):
        super(LightNN, self).__init__()
        self.features = nn.Sequential(nn.Linear(8, 16), nn.ReLU())
        self.classifier = nn.Sequential(nn.Linear(16, num_classes))

    def forward(self, x):
        x = self.features(x)
        return self.classifier(x)


centers = rng.standard_normal((4, 8)) * 2
labels = rng.integers(0, 4, 96)
X = (centers[labels] + rng.standard_normal((96, 8))).astype(np.float32)
train_loader = DataLoader(TensorDataset(torch.from_numpy(X[:64]), torch.from_numpy(labels[:64])),
                          batch_size=16, shuffle=False)
test_loader = DataLoader(TensorDataset(torch.from_numpy(X[64:]), torch.from_numpy(labels[64:])),
                         batch_size=16, shuffle=False)
device = "cpu"


def train(model, train_loader, epochs, learning_rate, device):
    criterion = nn.CrossEntropyLoss()
    optimizer = optim.Adam(model.parameters(), lr=learning_rate)
    model.train()
    history = []
    for epoch in range(epochs):
        running_loss = 0.0
        for inputs, labels in train_loader:
            inputs, labels = inputs.to(device), labels.to(device)
            optimizer.zero_grad()
            outputs = model(inputs)
            loss = criterion(outputs, labels)
            loss.backward()
            optimizer.step()
            running_loss += loss.item()
        history.append(running_loss / len(train_loader))
    return history


def test(model, test_loader, device):
    model.to(device)
    model.eval()
    correct = 0
    total = 0
    with torch.no_grad():
        for inputs, labels in test_loader:
            inputs, labels = inputs.to(device), labels.to(device)
            outputs = model(inputs)
            _, predicted = torch.max(outputs.data, 1)
            total += labels.size(0)
            correct += (predicted == labels).sum().item()
    return 100 * correct / total


def train_knowledge_distillation(teacher, student, train_loader, epochs, learning_rate, T,
                                 soft_target_loss_weight, ce_loss_weight, device, log_target):
    ce_loss = nn.CrossEntropyLoss()
    kl = nn.KLDivLoss(reduction="batchmean", log_target=log_target)
    optimizer = optim.Adam(student.parameters(), lr=learning_rate)
    teacher.eval()
    student.train()
    history = []
    for epoch in range(epochs):
        running_loss = 0.0
        for inputs, labels in train_loader:
            optimizer.zero_grad()
            with torch.no_grad():
                teacher_logits = teacher(inputs)
            student_logits = student(inputs)
            if log_target:
                soft_targets = F.log_softmax(teacher_logits / T, dim=-1)
            else:
                soft_targets = nn.functional.softmax(teacher_logits / T, dim=-1)
            soft_prob = nn.functional.log_softmax(student_logits / T, dim=-1)
            soft_targets_loss = kl(soft_prob, soft_targets) * (T ** 2)
            manual = torch.sum(F.softmax(teacher_logits / T, dim=-1) * (
                F.log_softmax(teacher_logits / T, dim=-1) - soft_prob)) / soft_prob.size()[0] * (T ** 2)
            label_loss = ce_loss(student_logits, labels)
            loss = soft_target_loss_weight * soft_targets_loss + ce_loss_weight * label_loss
            loss.backward()
            optimizer.step()
            running_loss += loss.item()
        history.append((running_loss / len(train_loader), (manual - soft_targets_loss).abs().item() < 1e-5))
    return history


teacher = DeepNN()
fill(teacher)
teacher_history = train(teacher, train_loader, epochs=4, learning_rate=0.01, device=device)
students = {}
for log_target in (False, True):
    student = LightNN()
    fill(student, 0.2)
    history = train_knowledge_distillation(teacher=teacher, student=student, train_loader=train_loader,
                                           epochs=3, learning_rate=0.01, T=2,
                                           soft_target_loss_weight=0.25, ce_loss_weight=0.75,
                                           device=device, log_target=log_target)
    students[str(log_target)] = (history, test(student, test_loader, device),
                                 student.classifier[0].weight)

regressor = nn.Linear(16, 16)
fill(regressor, 0.2)
student = LightNN()
fill(student, 0.2)
captured = {}
hook = teacher.features.register_forward_hook(lambda m, i, o: captured.__setitem__("t", o))
optimizer = optim.SGD(list(student.parameters()) + list(regressor.parameters()), lr=0.1)
cosine = []
for inputs, labels in train_loader:
    optimizer.zero_grad()
    with torch.no_grad():
        teacher_logits = teacher(inputs)
    hidden = regressor(student.features(inputs))
    cosine_loss = nn.CosineEmbeddingLoss()(hidden, captured["t"], torch.ones(inputs.size(0)))
    loss = cosine_loss + F.cross_entropy(student(inputs), labels)
    loss.backward()
    optimizer.step()
    cosine.append(cosine_loss.item())
hook.remove()

RESULT = {"teacher": teacher_history, "teacher_acc": test(teacher, test_loader, device),
          "students": students, "cosine": cosine,
          "params": [sum(p.numel() for p in m.parameters()) for m in (teacher, student)]}
