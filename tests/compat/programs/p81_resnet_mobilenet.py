# ruff: noqa - written as PyTorch user code is written
# Image-classifier backbones in torchvision's shape, small: a ResNet with BasicBlock and
# Bottleneck (conv3x3/conv1x1 helpers, downsample = Sequential(conv1x1, BatchNorm2d) when
# the stride or width changes, out += identity, zero_init_residual), kaiming_normal_
# (fan_out, relu) and constant_ init (replaced by NumPy weights for the convolutions),
# AdaptiveAvgPool2d + torch.flatten(x, 1); a MobileNetV2-style net with _make_divisible,
# depthwise-separable convolutions (groups=in_channels), ReLU6, inverted residuals with
# a use_res_connect flag, a squeeze-and-excitation block with Hardsigmoid and
# Hardswish; SGD with nesterov momentum and weight decay, label smoothing, a
# MultiStepLR, and evaluation with top-1 accuracy under torch.inference_mode().
import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

rng = np.random.default_rng(81)


def conv3x3(in_planes, out_planes, stride=1, groups=1, dilation=1):
    return nn.Conv2d(in_planes, out_planes, kernel_size=3, stride=stride, padding=dilation,
                     groups=groups, bias=False, dilation=dilation)


def conv1x1(in_planes, out_planes, stride=1):
    return nn.Conv2d(in_planes, out_planes, kernel_size=1, stride=stride, bias=False)


class BasicBlock(nn.Module):
    expansion = 1

    def __init__(self, inplanes, planes, stride=1, downsample=None, norm_layer=None):
        super().__init__()
        if norm_layer is None:
            norm_layer = nn.BatchNorm2d
        self.conv1 = conv3x3(inplanes, planes, stride)
        self.bn1 = norm_layer(planes)
        self.relu = nn.ReLU(inplace=True)
        self.conv2 = conv3x3(planes, planes)
        self.bn2 = norm_layer(planes)
        self.downsample = downsample
        self.stride = stride

    def forward(self, x):
        identity = x
        out = self.conv1(x)
        out = self.bn1(out)
        out = self.relu(out)
        out = self.conv2(out)
        out = self.bn2(out)
        if self.downsample is not None:
            identity = self.downsample(x)
        out += identity
        out = self.relu(out)
        return out


class Bottleneck(nn.Module):
    expansion = 4

    def __init__(self, inplanes, planes, stride=1, downsample=None, norm_layer=None):
        super().__init__()
        norm_layer = norm_layer or nn.BatchNorm2d
        width = planes
        self.conv1 = conv1x1(inplanes, width)
        self.bn1 = norm_layer(width)
        self.conv2 = conv3x3(width, width, stride)
        self.bn2 = norm_layer(width)
        self.conv3 = conv1x1(width, planes * self.expansion)
        self.bn3 = norm_layer(planes * self.expansion)
        self.relu = nn.ReLU(inplace=True)
        self.downsample = downsample
        self.stride = stride

    def forward(self, x):
        identity = x
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.relu(self.bn2(self.conv2(out)))
        out = self.bn3(self.conv3(out))
        if self.downsample is not None:
            identity = self.downsample(x)
        out += identity
        return self.relu(out)


class ResNet(nn.Module):
    def __init__(self, block, layers, num_classes=5, zero_init_residual=False):
        super().__init__()
        self._norm_layer = nn.BatchNorm2d
        self.inplanes = 8
        self.conv1 = nn.Conv2d(3, self.inplanes, kernel_size=3, stride=1, padding=1, bias=False)
        self.bn1 = self._norm_layer(self.inplanes)
        self.relu = nn.ReLU(inplace=True)
        self.maxpool = nn.MaxPool2d(kernel_size=3, stride=2, padding=1)
        self.layer1 = self._make_layer(block, 8, layers[0])
        self.layer2 = self._make_layer(block, 16, layers[1], stride=2)
        self.avgpool = nn.AdaptiveAvgPool2d((1, 1))
        self.fc = nn.Linear(16 * block.expansion, num_classes)
        for m in self.modules():
            if isinstance(m, nn.Conv2d):
                nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")
            elif isinstance(m, (nn.BatchNorm2d, nn.GroupNorm)):
                nn.init.constant_(m.weight, 1)
                nn.init.constant_(m.bias, 0)
        if zero_init_residual:
            for m in self.modules():
                if isinstance(m, Bottleneck) and m.bn3.weight is not None:
                    nn.init.constant_(m.bn3.weight, 0)
                elif isinstance(m, BasicBlock) and m.bn2.weight is not None:
                    nn.init.constant_(m.bn2.weight, 0)

    def _make_layer(self, block, planes, blocks, stride=1):
        norm_layer = self._norm_layer
        downsample = None
        if stride != 1 or self.inplanes != planes * block.expansion:
            downsample = nn.Sequential(conv1x1(self.inplanes, planes * block.expansion, stride),
                                       norm_layer(planes * block.expansion))
        layers = [block(self.inplanes, planes, stride, downsample, norm_layer)]
        self.inplanes = planes * block.expansion
        for _ in range(1, blocks):
            layers.append(block(self.inplanes, planes, norm_layer=norm_layer))
        return nn.Sequential(*layers)

    def forward(self, x):
        x = self.conv1(x)
        x = self.bn1(x)
        x = self.relu(x)
        x = self.maxpool(x)
        x = self.layer1(x)
        x = self.layer2(x)
        x = self.avgpool(x)
        x = torch.flatten(x, 1)
        x = self.fc(x)
        return x


def _make_divisible(v, divisor, min_value=None):
    if min_value is None:
        min_value = divisor
    new_v = max(min_value, int(v + divisor / 2) // divisor * divisor)
    if new_v < 0.9 * v:
        new_v += divisor
    return new_v


class SqueezeExcitation(nn.Module):
    def __init__(self, input_channels, squeeze_channels):
        super().__init__()
        self.avgpool = nn.AdaptiveAvgPool2d(1)
        self.fc1 = nn.Conv2d(input_channels, squeeze_channels, 1)
        self.fc2 = nn.Conv2d(squeeze_channels, input_channels, 1)
        self.activation = nn.ReLU()
        self.scale_activation = nn.Hardsigmoid()

    def forward(self, input):
        scale = self.avgpool(input)
        scale = self.fc1(scale)
        scale = self.activation(scale)
        scale = self.fc2(scale)
        return self.scale_activation(scale) * input


class InvertedResidual(nn.Module):
    def __init__(self, inp, oup, stride, expand_ratio, use_se=False):
        super().__init__()
        self.stride = stride
        hidden_dim = int(round(inp * expand_ratio))
        self.use_res_connect = self.stride == 1 and inp == oup
        layers = []
        if expand_ratio != 1:
            layers += [nn.Conv2d(inp, hidden_dim, 1, 1, 0, bias=False), nn.BatchNorm2d(hidden_dim),
                       nn.ReLU6(inplace=True)]
        layers += [nn.Conv2d(hidden_dim, hidden_dim, 3, stride, 1, groups=hidden_dim, bias=False),
                   nn.BatchNorm2d(hidden_dim), nn.Hardswish() if use_se else nn.ReLU6(inplace=True)]
        if use_se:
            layers.append(SqueezeExcitation(hidden_dim, _make_divisible(hidden_dim // 4, 8)))
        layers += [nn.Conv2d(hidden_dim, oup, 1, 1, 0, bias=False), nn.BatchNorm2d(oup)]
        self.conv = nn.Sequential(*layers)
        self.out_channels = oup

    def forward(self, x):
        if self.use_res_connect:
            return x + self.conv(x)
        else:
            return self.conv(x)


class MobileNet(nn.Module):
    def __init__(self, num_classes=5, width_mult=1.0):
        super().__init__()
        input_channel = _make_divisible(8 * width_mult, 4)
        features = [nn.Sequential(nn.Conv2d(3, input_channel, 3, 2, 1, bias=False),
                                  nn.BatchNorm2d(input_channel), nn.ReLU6(inplace=True))]
        for t, c, n, s, se in [(1, 8, 1, 1, False), (4, 12, 2, 2, True), (4, 16, 1, 1, True)]:
            output_channel = _make_divisible(c * width_mult, 4)
            for i in range(n):
                stride = s if i == 0 else 1
                features.append(InvertedResidual(input_channel, output_channel, stride, t, se))
                input_channel = output_channel
        self.features = nn.Sequential(*features)
        self.classifier = nn.Sequential(nn.Dropout(0.0), nn.Linear(input_channel, num_classes))

    def forward(self, x):
        x = self.features(x)
        x = nn.functional.adaptive_avg_pool2d(x, (1, 1))
        x = torch.flatten(x, 1)
        return self.classifier(x)


def set_weights(model):
    for m in model.modules():
        if isinstance(m, (nn.Conv2d, nn.Linear)):
            fan_in = m.weight[0].numel()
            with torch.no_grad():
                m.weight.copy_(torch.from_numpy(
                    rng.normal(0, (2.0 / fan_in) ** 0.5, tuple(m.weight.shape)).astype(np.float32)))
                if m.bias is not None:
                    m.bias.zero_()


images = torch.from_numpy(rng.standard_normal((12, 3, 12, 12)).astype(np.float32))
targets = torch.from_numpy(rng.integers(0, 5, 12))
results = {}
for name, make in [("basic", lambda: ResNet(BasicBlock, [2, 1])),
                   ("bottleneck", lambda: ResNet(Bottleneck, [1, 1], zero_init_residual=True)),
                   ("mobilenet", lambda: MobileNet())]:
    model = make()
    zeroed = [float(m.weight.detach().abs().sum()) for m in model.modules() if isinstance(m, nn.BatchNorm2d)]
    set_weights(model)
    criterion = nn.CrossEntropyLoss(label_smoothing=0.1)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.05, momentum=0.9, nesterov=True,
                                weight_decay=5e-4)
    scheduler = torch.optim.lr_scheduler.MultiStepLR(optimizer, milestones=[2, 4], gamma=0.1)
    history = []
    for epoch in range(5):
        model.train()
        for i in range(0, 12, 6):
            output = model(images[i:i + 6])
            loss = criterion(output, targets[i:i + 6])
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
        scheduler.step()
        model.eval()
        with torch.inference_mode():
            output = model(images)
            acc1 = (output.argmax(dim=1) == targets).float().mean() * 100
        history.append((loss.item(), acc1.item(), scheduler.get_last_lr()[0]))
    results[name] = {"history": history, "zero_init": zeroed,
                     "n_params": sum(p.numel() for p in model.parameters() if p.requires_grad),
                     "fc": list(model.parameters())[-2][:2],
                     "bn_var": [m.running_var for m in model.modules() if isinstance(m, nn.BatchNorm2d)][-1],
                     "tracked": [m.num_batches_tracked for m in model.modules() if isinstance(m, nn.BatchNorm2d)][0]}
results["divisible"] = [_make_divisible(v, 8) for v in (3, 10, 17.5, 30, 100)]
RESULT = results
