# ruff: noqa - written as PyTorch user code is written
# Neural style transfer in the shape of the tutorial: a small "pretrained" CNN whose
# children are copied into a new nn.Sequential with add_module, loss modules inserted
# after chosen convolutions (ContentLoss / StyleLoss with Gram matrices and
# target.detach()), the tail trimmed by slicing, and LBFGS optimizing the input image
# itself, clamped in place under no_grad inside the closure.
import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
import torch.optim as optim

rng = np.random.default_rng(50)


class ContentLoss(nn.Module):
    def __init__(self, target):
        super().__init__()
        self.target = target.detach()

    def forward(self, input):
        self.loss = F.mse_loss(input, self.target)
        return input


def gram_matrix(input):
    a, b, c, d = input.size()
    features = input.view(a * b, c * d)
    G = torch.mm(features, features.t())
    return G.div(a * b * c * d)


class StyleLoss(nn.Module):
    def __init__(self, target_feature):
        super().__init__()
        self.target = gram_matrix(target_feature).detach()

    def forward(self, input):
        self.loss = F.mse_loss(gram_matrix(input), self.target)
        return input


class Normalization(nn.Module):
    def __init__(self, mean, std):
        super().__init__()
        self.mean = torch.tensor(mean).view(-1, 1, 1)
        self.std = torch.tensor(std).view(-1, 1, 1)

    def forward(self, img):
        return (img - self.mean) / self.std


cnn = nn.Sequential(nn.Conv2d(3, 4, 3, padding=1), nn.ReLU(inplace=True),
                    nn.Conv2d(4, 4, 3, padding=1), nn.ReLU(inplace=True), nn.MaxPool2d(2),
                    nn.Conv2d(4, 6, 3, padding=1), nn.ReLU(inplace=True),
                    nn.Conv2d(6, 6, 3, padding=1)).eval()
with torch.no_grad():
    for p in cnn.parameters():
        p.copy_(torch.from_numpy(rng.normal(0, 0.3, tuple(p.shape)).astype(np.float32)))
style_img = torch.from_numpy(rng.random((1, 3, 8, 8)).astype(np.float32))
content_img = torch.from_numpy(rng.random((1, 3, 8, 8)).astype(np.float32))
content_layers, style_layers = ["conv_3"], ["conv_1", "conv_2", "conv_3", "conv_4"]

normalization = Normalization([0.485, 0.456, 0.406], [0.229, 0.224, 0.225])
model = nn.Sequential(normalization)
content_losses, style_losses = [], []
i = 0
for layer in cnn.children():
    if isinstance(layer, nn.Conv2d):
        i += 1
        name = f"conv_{i}"
    elif isinstance(layer, nn.ReLU):
        name = f"relu_{i}"
        layer = nn.ReLU(inplace=False)
    elif isinstance(layer, nn.MaxPool2d):
        name = f"pool_{i}"
    else:
        raise RuntimeError(f"Unrecognized layer: {layer.__class__.__name__}")
    model.add_module(name, layer)
    if name in content_layers:
        target = model(content_img).detach()
        content_loss = ContentLoss(target)
        model.add_module(f"content_loss_{i}", content_loss)
        content_losses.append(content_loss)
    if name in style_layers:
        target_feature = model(style_img).detach()
        style_loss = StyleLoss(target_feature)
        model.add_module(f"style_loss_{i}", style_loss)
        style_losses.append(style_loss)
for i in range(len(model) - 1, -1, -1):
    if isinstance(model[i], (ContentLoss, StyleLoss)):
        break
model = model[:(i + 1)]
model.eval()
model.requires_grad_(False)

input_img = content_img.clone()
input_img.requires_grad_(True)
optimizer = optim.LBFGS([input_img], lr=0.5, max_iter=5)
history = []
run = [0]
while run[0] <= 12:
    def closure():
        with torch.no_grad():
            input_img.clamp_(0, 1)
        optimizer.zero_grad()
        model(input_img)
        style_score = sum(sl.loss for sl in style_losses) * 1000
        content_score = sum(cl.loss for cl in content_losses)
        loss = style_score + content_score
        loss.backward()
        run[0] += 1
        history.append([style_score.item(), content_score.item()])
        return style_score + content_score
    optimizer.step(closure)
with torch.no_grad():
    input_img.clamp_(0, 1)
RESULT = {"history": history, "image": input_img, "names": [n for n, _ in model.named_children()],
          "n_modules": len(model), "trainable": [p.requires_grad for p in model.parameters()]}
