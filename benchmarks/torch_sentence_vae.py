"""PyTorch reference of VAEKit's sequence VAE (Bowman et al. 2016; `SentenceVAE` in Sources/VAEModels/Text), for
side-by-side timing of training on sentences and, once `vae train --config sentence-vae` exists, its losses.

Model: Embedding(V, E) → GRU(E → H) encoder over the sentence and <eos> → Linear(H → d) heads for mean and
log-variance → z = μ + σ·ε → tanh(Linear(d → H)) as the decoder GRU's initial state (every layer; an LSTM's h and c
alike) → GRU(E → H) decoder reading <bos> and the sentence (teacher forcing, word dropout to <unk>) → Linear(H → V).
Loss per sentence: the summed softmax cross-entropy of the sentence and <eos> + w·KL(q(z|x) ‖ N(0, I)), w from
Bowman's logistic schedule 1/(1 + exp(−k(step − x0))); mean over the batch; Adam 1e-3. With --latent 0 it is the
language model (`rnnlm`): the same decoder from a zero state. Ids as VAEKit's vocabulary: 0 <pad>, 1 <unk>, 2 <bos>,
3 <eos>, then words by frequency (ties in byte order), at most --vocabulary ids; sentences longer than
--max-length tokens are dropped.

Data: DIR/train.txt, one sentence per line, already tokenised (tokens separated by spaces) — VAEKit's
`WordNetGlosses.write(to:)` writes the WordNet corpus that way, and the Penn Treebank files are too.

    pip install torch
    python3 torch_sentence_vae.py DIR --epochs 1 --threads 2

Prints one line per epoch: train loss (mean −ELBO per sentence under the schedule), KL, seconds of the training
loop (gradient norm clipped at 5, as the sentence-vae config), sentences and tokens (<eos> included) per second.
"""
import argparse, math, os, random, time

import torch
import torch.nn as nn
import torch.nn.functional as F

PAD, UNK, BOS, EOS = 0, 1, 2, 3


class SentenceVAE(nn.Module):
    def __init__(self, vocabulary, embedding, hidden, latent, cell):
        super().__init__()
        rnn = nn.GRU if cell == "gru" else nn.LSTM
        self.cell, self.latent = cell, latent
        self.embedding = nn.Embedding(vocabulary, embedding)
        if latent > 0:
            self.encoder = rnn(embedding, hidden)
            self.mean, self.log_variance = nn.Linear(hidden, latent), nn.Linear(hidden, latent)
            self.latent_to_hidden = nn.Linear(latent, hidden)
        self.decoder = rnn(embedding, hidden)
        self.output = nn.Linear(hidden, vocabulary)

    def forward(self, sentences, inputs, lengths):
        """sentences, inputs: [T, B] ids (time-major, padded); lengths: [B] (<eos> included)."""
        kl = torch.zeros(sentences.shape[1])
        state = None
        if self.latent > 0:
            packed = nn.utils.rnn.pack_padded_sequence(self.embedding(sentences), lengths, enforce_sorted=False)
            _, final = self.encoder(packed)
            last = (final if self.cell == "gru" else final[0])[-1]
            mean, log_variance = self.mean(last), self.log_variance(last)
            z = mean + torch.exp(0.5 * log_variance) * torch.randn_like(mean)
            kl = 0.5 * (mean.pow(2) + log_variance.exp() - log_variance - 1).sum(1)
            hidden = torch.tanh(self.latent_to_hidden(z)).unsqueeze(0)
            state = hidden if self.cell == "gru" else (hidden, hidden)
        packed = nn.utils.rnn.pack_padded_sequence(self.embedding(inputs), lengths, enforce_sorted=False)
        outputs, _ = self.decoder(packed, state)
        outputs, _ = nn.utils.rnn.pad_packed_sequence(outputs, total_length=sentences.shape[0])
        logits = self.output(outputs)
        losses = F.cross_entropy(logits.reshape(-1, logits.shape[-1]), sentences.reshape(-1), ignore_index=PAD,
                                 reduction="none").reshape(sentences.shape)
        return losses.sum(0), kl


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("data")
    parser.add_argument("--epochs", type=int, default=1)
    parser.add_argument("--batch", type=int, default=32)
    parser.add_argument("--vocabulary", type=int, default=20000)
    parser.add_argument("--max-length", type=int, default=40)
    parser.add_argument("--embedding", type=int, default=300)
    parser.add_argument("--hidden", type=int, default=256)
    parser.add_argument("--latent", type=int, default=16)
    parser.add_argument("--cell", choices=["gru", "lstm"], default="gru")
    parser.add_argument("--word-dropout", type=float, default=0.25)
    parser.add_argument("--k", type=float, default=0.0025)
    parser.add_argument("--x0", type=float, default=2500)
    parser.add_argument("--limit", type=int, default=0, help="first N training sentences (0: all)")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--seed", type=int, default=1)
    arguments = parser.parse_args()
    torch.set_num_threads(arguments.threads)
    torch.manual_seed(arguments.seed)
    random.seed(arguments.seed)

    with open(os.path.join(arguments.data, "train.txt"), encoding="utf-8") as handle:
        sentences = [line.split() for line in handle if line.strip()]
    counts = {}
    for sentence in sentences:
        for token in sentence:
            counts[token] = counts.get(token, 0) + 1
    ranked = sorted((token for token in counts if token not in ("<pad>", "<unk>", "<bos>", "<eos>")),
                    key=lambda token: (-counts[token], token.encode()))
    ids = {token: index + 4 for index, token in enumerate(ranked[:arguments.vocabulary - 4])}
    # The vocabulary is counted on the whole training file (as VAEKit's), then the first --limit sentences are kept.
    if arguments.limit:
        sentences = sentences[:arguments.limit]
    data = [[ids.get(token, UNK) for token in sentence] + [EOS] for sentence in sentences
            if len(sentence) <= arguments.max_length]
    model = SentenceVAE(arguments.vocabulary, arguments.embedding, arguments.hidden, arguments.latent, arguments.cell)
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    step = 0
    for epoch in range(1, arguments.epochs + 1):
        order = list(range(len(data)))
        random.shuffle(order)
        total = kl_total = 0.0
        tokens = 0
        start = time.perf_counter()
        for first in range(0, len(order), arguments.batch):
            batch = [data[index] for index in order[first:first + arguments.batch]]
            lengths = torch.tensor([len(sentence) for sentence in batch])
            steps = int(lengths.max())
            sentences = torch.full((steps, len(batch)), PAD, dtype=torch.long)
            inputs = torch.full((steps, len(batch)), PAD, dtype=torch.long)
            for item, sentence in enumerate(batch):
                sentences[:len(sentence), item] = torch.tensor(sentence)
                shifted = [BOS] + sentence[:-1]
                if arguments.word_dropout > 0:
                    shifted = [token if token == BOS or random.random() >= arguments.word_dropout else UNK for token in shifted]
                inputs[:len(sentence), item] = torch.tensor(shifted)
            reconstruction, kl = model(sentences, inputs, lengths)
            weight = 1 / (1 + math.exp(-arguments.k * (step - arguments.x0)))
            loss = (reconstruction + weight * kl).mean()
            optimizer.zero_grad()
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 5.0)
            optimizer.step()
            step += 1
            total += loss.item() * len(batch)
            kl_total += kl.detach().sum().item()
            tokens += int(lengths.sum())
        seconds = time.perf_counter() - start
        print(f"epoch {epoch}  loss {total / len(data):.3f}  kl {kl_total / len(data):.3f}  {seconds:.2f} s  "
              f"{len(data) / seconds:.0f} sentences/s  {tokens / seconds:.0f} tokens/s")


if __name__ == "__main__":
    main()
