# ruff: noqa - written as PyTorch user code is written
# Two tutorial programs in one: the "NLP from scratch" translation model (EncoderRNN with
# Embedding + GRU(batch_first), AttnDecoderRNN with Bahdanau attention: Wa/Ua/Va,
# torch.bmm, a loop over decoder steps with teacher forcing from target_tensor[:, i]
# and otherwise topk(1) + squeeze(-1).detach(), torch.cat of the outputs, log_softmax,
# NLLLoss on view(-1)), and the adversarial-example tutorial: FGSM with
# data.requires_grad = True, data.grad.data.sign(), torch.clamp to [0, 1],
# per-epsilon accuracy of a small classifier, plus a few PGD steps.
import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from torch import optim

rng = np.random.default_rng(84)
device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
SOS_token, EOS_token, MAX_LENGTH = 0, 1, 6


def fill(module, scale=0.3):
    with torch.no_grad():
        for p in module.parameters():
            p.copy_(torch.from_numpy(rng.normal(0, scale, tuple(p.shape)).astype(np.float32)))


class EncoderRNN(nn.Module):
    def __init__(self, input_size, hidden_size, dropout_p=0.1):
        super(EncoderRNN, self).__init__()
        self.hidden_size = hidden_size
        self.embedding = nn.Embedding(input_size, hidden_size)
        self.gru = nn.GRU(hidden_size, hidden_size, batch_first=True)
        self.dropout = nn.Dropout(dropout_p)

    def forward(self, input):
        embedded = self.dropout(self.embedding(input))
        output, hidden = self.gru(embedded)
        return output, hidden


class BahdanauAttention(nn.Module):
    def __init__(self, hidden_size):
        super(BahdanauAttention, self).__init__()
        self.Wa = nn.Linear(hidden_size, hidden_size)
        self.Ua = nn.Linear(hidden_size, hidden_size)
        self.Va = nn.Linear(hidden_size, 1)

    def forward(self, query, keys):
        scores = self.Va(torch.tanh(self.Wa(query) + self.Ua(keys)))
        scores = scores.squeeze(2).unsqueeze(1)
        weights = F.softmax(scores, dim=-1)
        context = torch.bmm(weights, keys)
        return context, weights


class AttnDecoderRNN(nn.Module):
    def __init__(self, hidden_size, output_size, dropout_p=0.1):
        super(AttnDecoderRNN, self).__init__()
        self.embedding = nn.Embedding(output_size, hidden_size)
        self.attention = BahdanauAttention(hidden_size)
        self.gru = nn.GRU(2 * hidden_size, hidden_size, batch_first=True)
        self.out = nn.Linear(hidden_size, output_size)
        self.dropout = nn.Dropout(dropout_p)

    def forward(self, encoder_outputs, encoder_hidden, target_tensor=None):
        batch_size = encoder_outputs.size(0)
        decoder_input = torch.empty(batch_size, 1, dtype=torch.long, device=device).fill_(SOS_token)
        decoder_hidden = encoder_hidden
        decoder_outputs = []
        attentions = []
        for i in range(MAX_LENGTH):
            decoder_output, decoder_hidden, attn_weights = self.forward_step(
                decoder_input, decoder_hidden, encoder_outputs)
            decoder_outputs.append(decoder_output)
            attentions.append(attn_weights)
            if target_tensor is not None:
                decoder_input = target_tensor[:, i].unsqueeze(1)
            else:
                _, topi = decoder_output.topk(1)
                decoder_input = topi.squeeze(-1).detach()
        decoder_outputs = torch.cat(decoder_outputs, dim=1)
        decoder_outputs = F.log_softmax(decoder_outputs, dim=-1)
        attentions = torch.cat(attentions, dim=1)
        return decoder_outputs, decoder_hidden, attentions

    def forward_step(self, input, hidden, encoder_outputs):
        embedded = self.dropout(self.embedding(input))
        query = hidden.permute(1, 0, 2)
        context, attn_weights = self.attention(query, encoder_outputs)
        input_gru = torch.cat((embedded, context), dim=2)
        output, hidden = self.gru(input_gru, hidden)
        output = self.out(output)
        return output, hidden, attn_weights


n_words, hidden_size = 9, 12
pairs = rng.integers(2, n_words, (8, MAX_LENGTH - 1))
input_ids = np.concatenate([pairs, np.full((8, 1), EOS_token)], 1)
target_ids = np.concatenate([(pairs[:, ::-1] % (n_words - 2)) + 2, np.full((8, 1), EOS_token)], 1)
input_tensor = torch.tensor(input_ids, dtype=torch.long)
target_tensor = torch.tensor(target_ids.copy(), dtype=torch.long)
encoder = EncoderRNN(n_words, hidden_size, dropout_p=0.0).to(device)
decoder = AttnDecoderRNN(hidden_size, n_words, dropout_p=0.0).to(device)
fill(encoder)
fill(decoder)
encoder_optimizer = optim.Adam(encoder.parameters(), lr=0.01)
decoder_optimizer = optim.Adam(decoder.parameters(), lr=0.01)
criterion = nn.NLLLoss()
seq_losses = []
for epoch in range(1, 9):
    total_loss = 0
    for i in range(0, 8, 4):
        encoder_optimizer.zero_grad()
        decoder_optimizer.zero_grad()
        encoder_outputs, encoder_hidden = encoder(input_tensor[i:i + 4])
        teacher = target_tensor[i:i + 4] if epoch % 2 else None
        decoder_outputs, _, _ = decoder(encoder_outputs, encoder_hidden, teacher)
        loss = criterion(decoder_outputs.view(-1, decoder_outputs.size(-1)),
                         target_tensor[i:i + 4].view(-1))
        loss.backward()
        encoder_optimizer.step()
        decoder_optimizer.step()
        total_loss += loss.item()
    seq_losses.append(total_loss / 2)
with torch.no_grad():
    encoder_outputs, encoder_hidden = encoder(input_tensor[:2])
    decoder_outputs, decoder_hidden, decoder_attn = decoder(encoder_outputs, encoder_hidden)
    _, topi = decoder_outputs.topk(1)
    decoded_ids = topi.squeeze()


class Net(nn.Module):
    def __init__(self):
        super(Net, self).__init__()
        self.conv1 = nn.Conv2d(1, 4, kernel_size=3)
        self.fc1 = nn.Linear(4 * 3 * 3, 3)

    def forward(self, x):
        x = F.relu(F.max_pool2d(self.conv1(x), 2))
        x = x.view(-1, 4 * 3 * 3)
        return F.log_softmax(self.fc1(x), dim=1)


def fgsm_attack(image, epsilon, data_grad):
    sign_data_grad = data_grad.sign()
    perturbed_image = image + epsilon * sign_data_grad
    perturbed_image = torch.clamp(perturbed_image, 0, 1)
    return perturbed_image


model = Net()
fill(model, 0.5)
model.eval()
images = torch.from_numpy(rng.random((10, 1, 8, 8)).astype(np.float32))
with torch.no_grad():
    labels = model(images).argmax(1)
accuracies, examples = [], []
for epsilon in [0, 0.05, 0.1, 0.3]:
    correct = 0
    for k in range(10):
        data, target = images[k:k + 1].clone(), labels[k:k + 1]
        data.requires_grad = True
        output = model(data)
        init_pred = output.max(1, keepdim=True)[1]
        loss = F.nll_loss(output, target)
        model.zero_grad()
        loss.backward()
        data_grad = data.grad.data
        perturbed_data = fgsm_attack(data, epsilon, data_grad)
        output = model(perturbed_data)
        final_pred = output.max(1, keepdim=True)[1]
        if final_pred.item() == target.item():
            correct += 1
        elif len(examples) < 3:
            adv_ex = perturbed_data.squeeze().detach().cpu().numpy()
            examples.append((init_pred.item(), final_pred.item(), adv_ex[:2, :2]))
    accuracies.append(correct / 10)

x_adv = images.clone().detach()
for step in range(3):
    x_adv.requires_grad_(True)
    loss = F.nll_loss(model(x_adv), labels)
    grad, = torch.autograd.grad(loss, [x_adv])
    x_adv = x_adv.detach() + 0.02 * grad.sign()
    x_adv = torch.min(torch.max(x_adv, images - 0.05), images + 0.05).clamp(0, 1)
RESULT = {"seq": seq_losses, "decoded": decoded_ids, "attn": decoder_attn[0, :2],
          "fgsm": accuracies, "examples": examples, "pgd": F.nll_loss(model(x_adv), labels),
          "delta": (x_adv - images).abs().max()}
