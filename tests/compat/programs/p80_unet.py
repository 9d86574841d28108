# ruff: noqa - written as PyTorch user code is written
# A small U-Net for segmentation in the shape of the popular PyTorch implementations:
# DoubleConv (conv-BN-ReLU twice, bias=False), Down (MaxPool2d then DoubleConv), Up with
# ConvTranspose2d or nn.Upsample(bilinear, align_corners=True), F.pad to the skip's size
# (odd input sizes), torch.cat([x2, x1], dim=1) skips, a 1x1 OutConv; trained with
# BCEWithLogitsLoss plus a soft Dice loss on sigmoid outputs, RMSprop with momentum (SGD
# with Nesterov momentum for the bilinear variant),
# ReduceLROnPlateau('max') on the (soft) Dice score of an evaluation pass.
import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from torch import optim

rng = np.random.default_rng(80)


class DoubleConv(nn.Module):
    def __init__(self, in_channels, out_channels, mid_channels=None):
        super().__init__()
        if not mid_channels:
            mid_channels = out_channels
        self.double_conv = nn.Sequential(
            nn.Conv2d(in_channels, mid_channels, kernel_size=3, padding=1, bias=False),
            nn.BatchNorm2d(mid_channels),
            nn.ReLU(inplace=True),
            nn.Conv2d(mid_channels, out_channels, kernel_size=3, padding=1, bias=False),
            nn.BatchNorm2d(out_channels),
            nn.ReLU(inplace=True))

    def forward(self, x):
        return self.double_conv(x)


class Down(nn.Module):
    def __init__(self, in_channels, out_channels):
        super().__init__()
        self.maxpool_conv = nn.Sequential(nn.MaxPool2d(2), DoubleConv(in_channels, out_channels))

    def forward(self, x):
        return self.maxpool_conv(x)


class Up(nn.Module):
    def __init__(self, in_channels, out_channels, bilinear=True):
        super().__init__()
        if bilinear:
            self.up = nn.Upsample(scale_factor=2, mode='bilinear', align_corners=True)
            self.conv = DoubleConv(in_channels, out_channels, in_channels // 2)
        else:
            self.up = nn.ConvTranspose2d(in_channels, in_channels // 2, kernel_size=2, stride=2)
            self.conv = DoubleConv(in_channels, out_channels)

    def forward(self, x1, x2):
        x1 = self.up(x1)
        diffY = x2.size()[2] - x1.size()[2]
        diffX = x2.size()[3] - x1.size()[3]
        x1 = F.pad(x1, [diffX // 2, diffX - diffX // 2, diffY // 2, diffY - diffY // 2])
        x = torch.cat([x2, x1], dim=1)
        return self.conv(x)


class OutConv(nn.Module):
    def __init__(self, in_channels, out_channels):
        super(OutConv, self).__init__()
        self.conv = nn.Conv2d(in_channels, out_channels, kernel_size=1)

    def forward(self, x):
        return self.conv(x)


class UNet(nn.Module):
    def __init__(self, n_channels, n_classes, bilinear=False):
        super(UNet, self).__init__()
        self.n_channels = n_channels
        self.n_classes = n_classes
        self.bilinear = bilinear
        self.inc = DoubleConv(n_channels, 4)
        self.down1 = Down(4, 8)
        factor = 2 if bilinear else 1
        self.down2 = Down(8, 16 // factor)
        self.up1 = Up(16, 8 // factor, bilinear)
        self.up2 = Up(8, 4, bilinear)
        self.outc = OutConv(4, n_classes)

    def forward(self, x):
        x1 = self.inc(x)
        x2 = self.down1(x1)
        x3 = self.down2(x2)
        x = self.up1(x3, x2)
        x = self.up2(x, x1)
        logits = self.outc(x)
        return logits


def dice_coeff(input, target, reduce_batch_first=False, epsilon=1e-6):
    sum_dim = (-1, -2) if input.dim() == 2 or not reduce_batch_first else (-1, -2, -3)
    inter = 2 * (input * target).sum(dim=sum_dim)
    sets_sum = input.sum(dim=sum_dim) + target.sum(dim=sum_dim)
    sets_sum = torch.where(sets_sum == 0, inter, sets_sum)
    dice = (inter + epsilon) / (sets_sum + epsilon)
    return dice.mean()


def dice_loss(input, target):
    return 1 - dice_coeff(input, target, reduce_batch_first=True)


images = rng.standard_normal((6, 1, 13, 11)).astype(np.float32)
masks = (images > 0.3).astype(np.float32)
images_t, masks_t = torch.from_numpy(images), torch.from_numpy(masks)
results = {}
for bilinear in (False, True):
    model = UNet(n_channels=1, n_classes=1, bilinear=bilinear)
    for m in model.modules():
        if isinstance(m, (nn.Conv2d, nn.ConvTranspose2d)):
            with torch.no_grad():
                m.weight.copy_(torch.from_numpy(rng.normal(0, 0.4, tuple(m.weight.shape)).astype(np.float32)))
            if m.bias is not None:
                nn.init.zeros_(m.bias)
        elif isinstance(m, (nn.BatchNorm2d, nn.GroupNorm)):
            nn.init.constant_(m.weight, 1)
            nn.init.constant_(m.bias, 0)
    if bilinear:
        optimizer = optim.SGD(model.parameters(), lr=0.05, momentum=0.9, nesterov=True)
    else:
        optimizer = optim.RMSprop(model.parameters(), lr=1e-3, weight_decay=1e-8, momentum=0.9,
                                  foreach=True)
    scheduler = optim.lr_scheduler.ReduceLROnPlateau(optimizer, 'max', patience=1)
    criterion = nn.CrossEntropyLoss() if model.n_classes > 1 else nn.BCEWithLogitsLoss()
    history = []
    for epoch in range(4):
        model.train()
        for i in range(0, 6, 3):
            image, true_masks = images_t[i:i + 3], masks_t[i:i + 3]
            masks_pred = model(image)
            loss = criterion(masks_pred.squeeze(1), true_masks.squeeze(1).float())
            loss += dice_loss(F.sigmoid(masks_pred.squeeze(1)), true_masks.squeeze(1).float())
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            optimizer.step()
        model.eval()
        with torch.no_grad():
            mask_prob = F.sigmoid(model(images_t))
            score = dice_coeff(mask_prob.squeeze(1), masks_t.squeeze(1), reduce_batch_first=False)
        scheduler.step(score)
        history.append((loss.item(), score.item(), optimizer.param_groups[0]['lr']))
    results[str(bilinear)] = {"history": history, "out_shape": tuple(model(images_t).shape),
                              "bn": model.inc.double_conv[1].running_mean,
                              "w": model.outc.conv.weight.flatten()}
RESULT = results
