"""Blind student submissions for notebook 04_torch_nn (written from the notebook text and the
COURSE.md spec only, without looking at the course's tests or solutions).

ENTRIES: list of dicts {"name", "kind" ("correct" | "bug"), "functions" {top-level name: source},
"description"}. Correct entries define all seven graded names (MyLinear, MLP, train_epoch,
evaluate, fit, save_checkpoint, load_checkpoint); bug entries define only the one that is wrong
and are meant to be combined with any correct entry.

Names the sources rely on are those of the notebook's imports cell: copy, os, tempfile, time, plt,
np, torch, F, nn, tqdm (and the other graded names).
"""

ASSIGNMENT = "04_torch_nn"

from textwrap import dedent

GRADED = ["MyLinear", "MLP", "train_epoch", "evaluate", "fit", "save_checkpoint", "load_checkpoint"]


def _s(text):
    return dedent(text).strip("\n") + "\n"


# ======================================================================================
# Correct entries
# ======================================================================================

C01 = {
    "MyLinear": _s('''
        class MyLinear(nn.Module):
            """A fully connected layer: X (N, in_features) -> X @ W.T + b."""

            def __init__(self, in_features, out_features):
                super().__init__()
                bound = 1 / in_features ** 0.5
                self.W = nn.Parameter(torch.empty(out_features, in_features).uniform_(-bound, bound))
                self.b = nn.Parameter(torch.empty(out_features).uniform_(-bound, bound))

            def forward(self, X):
                return X @ self.W.T + self.b
        '''),
    "MLP": _s('''
        class MLP(nn.Module):
            def __init__(self, d_in, hidden_dims, d_out, nonlin="relu"):
                super().__init__()
                activations = {"relu": nn.ReLU, "tanh": nn.Tanh, "sigmoid": nn.Sigmoid}
                sizes = [d_in] + list(hidden_dims)
                layers = [nn.Flatten()]
                for a, b in zip(sizes[:-1], sizes[1:]):
                    layers += [nn.Linear(a, b), activations[nonlin]()]
                layers.append(nn.Linear(sizes[-1], d_out))
                self.net = nn.Sequential(*layers)

            def forward(self, X):
                return F.log_softmax(self.net(X), dim=1)
        '''),
    "train_epoch": _s('''
        def train_epoch(model, loader, loss_fn, optimizer, device):
            model.train()
            total, n = 0.0, 0
            for X, y in loader:
                X, y = X.to(device), y.to(device)
                optimizer.zero_grad()
                loss = loss_fn(model(X), y)
                loss.backward()
                optimizer.step()
                total += loss.item() * len(X)
                n += len(X)
            return total / n
        '''),
    "evaluate": _s('''
        def evaluate(model, loader, loss_fn, device):
            model.eval()
            total, correct, n = 0.0, 0, 0
            with torch.no_grad():
                for X, y in loader:
                    X, y = X.to(device), y.to(device)
                    out = model(X)
                    total += loss_fn(out, y).item() * len(X)
                    correct += (out.argmax(dim=1) == y).sum().item()
                    n += len(X)
            return total / n, correct / n
        '''),
    "fit": _s('''
        def fit(model, train_loader, val_loader, loss_fn, optimizer, epochs, device):
            history = {"train_loss": [], "val_loss": [], "val_acc": []}
            best_acc, best_state = -1.0, None
            for epoch in tqdm(range(epochs), desc="epochs", leave=False):
                train_loss = train_epoch(model, train_loader, loss_fn, optimizer, device)
                val_loss, val_acc = evaluate(model, val_loader, loss_fn, device)
                history["train_loss"].append(train_loss)
                history["val_loss"].append(val_loss)
                history["val_acc"].append(val_acc)
                if val_acc > best_acc:
                    best_acc = val_acc
                    best_state = copy.deepcopy(model.state_dict())
            return history, best_state
        '''),
    "save_checkpoint": _s('''
        def save_checkpoint(model, optimizer, path):
            torch.save({"model": model.state_dict(), "optimizer": optimizer.state_dict()}, path)
        '''),
    "load_checkpoint": _s('''
        def load_checkpoint(model, optimizer, path):
            device = next(model.parameters()).device
            checkpoint = torch.load(path, map_location=device, weights_only=True)
            model.load_state_dict(checkpoint["model"])
            optimizer.load_state_dict(checkpoint["optimizer"])
        '''),
}

C02 = {
    "MyLinear": _s('''
        class MyLinear(nn.Module):
            def __init__(self, in_features, out_features):
                super().__init__()
                self.W = nn.Parameter(torch.empty(out_features, in_features))
                self.b = nn.Parameter(torch.empty(out_features))
                # what nn.Linear.reset_parameters does: bound 1/sqrt(fan_in) for both
                nn.init.kaiming_uniform_(self.W, a=5 ** 0.5)
                bound = in_features ** -0.5
                nn.init.uniform_(self.b, -bound, bound)

            def forward(self, X):
                return F.linear(X, self.W, self.b)
        '''),
    "MLP": _s('''
        class MLP(nn.Module):
            def __init__(self, d_in, hidden_dims, d_out, nonlin="relu"):
                super().__init__()
                if nonlin == "relu":
                    self.act = torch.relu
                elif nonlin == "tanh":
                    self.act = torch.tanh
                elif nonlin == "sigmoid":
                    self.act = torch.sigmoid
                else:
                    raise ValueError(f"unknown nonlin {nonlin!r}")
                dims = [d_in, *hidden_dims, d_out]
                self.layers = nn.ModuleList(nn.Linear(dims[i], dims[i + 1]) for i in range(len(dims) - 1))

            def forward(self, X):
                Z = torch.flatten(X, 1)
                for i, layer in enumerate(self.layers):
                    Z = layer(Z)
                    if i < len(self.layers) - 1:
                        Z = self.act(Z)
                return Z - torch.logsumexp(Z, dim=1, keepdim=True)
        '''),
    "train_epoch": _s('''
        def train_epoch(model, loader, loss_fn, optimizer, device):
            model.train()
            loss_sum = 0.0
            count = 0
            for X, y in loader:
                X = X.to(device)
                y = y.to(device)
                loss = loss_fn(model(X), y)
                loss.backward()
                optimizer.step()
                optimizer.zero_grad(set_to_none=False)   # reset right after the step
                loss_sum += loss.item() * y.size(0)
                count += y.size(0)
            return loss_sum / count
        '''),
    "evaluate": _s('''
        def evaluate(model, loader, loss_fn, device):
            was_training = model.training
            model.eval()
            loss_sum, hits, count = 0.0, 0, 0
            with torch.inference_mode():
                for X, y in loader:
                    X, y = X.to(device), y.to(device)
                    log_p = model(X)
                    loss_sum += loss_fn(log_p, y).item() * y.shape[0]
                    hits += int((log_p.argmax(1) == y).sum())
                    count += y.shape[0]
            model.train(was_training)
            return loss_sum / count, hits / count
        '''),
    "fit": _s('''
        def fit(model, train_loader, val_loader, loss_fn, optimizer, epochs, device):
            history = {"train_loss": [], "val_loss": [], "val_acc": []}
            best_acc = float("-inf")
            best_state = None
            for _ in range(epochs):
                history["train_loss"].append(train_epoch(model, train_loader, loss_fn, optimizer, device))
                val_loss, val_acc = evaluate(model, val_loader, loss_fn, device)
                history["val_loss"].append(val_loss)
                history["val_acc"].append(val_acc)
                if val_acc > best_acc:
                    best_acc = val_acc
                    best_state = {k: v.clone() for k, v in model.state_dict().items()}
            return history, best_state
        '''),
    "save_checkpoint": _s('''
        def save_checkpoint(model, optimizer, path):
            state = {"model": model.state_dict(), "optimizer": optimizer.state_dict()}
            torch.save(state, path)
        '''),
    "load_checkpoint": _s('''
        def load_checkpoint(model, optimizer, path):
            state = torch.load(path, weights_only=True, map_location=next(model.parameters()).device)
            model.load_state_dict(state["model"])
            optimizer.load_state_dict(state["optimizer"])
        '''),
}

C03 = {
    "MyLinear": _s('''
        class MyLinear(nn.Module):
            def __init__(self, in_features, out_features):
                super().__init__()
                k = 1.0 / np.sqrt(in_features)
                self.W = nn.Parameter((torch.rand(out_features, in_features) * 2 - 1) * k)
                self.b = nn.Parameter((torch.rand(out_features) * 2 - 1) * k)

            def forward(self, X):
                return torch.addmm(self.b, X, self.W.t())
        '''),
    "MLP": _s('''
        class MLP(nn.Module):
            def __init__(self, d_in, hidden_dims, d_out, nonlin="relu"):
                super().__init__()
                assert nonlin in ("relu", "tanh", "sigmoid"), nonlin
                self.nonlin = nonlin
                sizes = [d_in] + list(hidden_dims) + [d_out]
                self.n_layers = len(sizes) - 1
                for i in range(self.n_layers):
                    setattr(self, f"fc{i}", nn.Linear(sizes[i], sizes[i + 1]))

            def forward(self, X):
                act = getattr(torch, self.nonlin)
                h = X.reshape(len(X), -1)
                for i in range(self.n_layers):
                    h = getattr(self, f"fc{i}")(h)
                    if i != self.n_layers - 1:
                        h = act(h)
                return F.log_softmax(h, dim=-1)
        '''),
    "train_epoch": _s('''
        def train_epoch(model, loader, loss_fn, optimizer, device):
            model.train()
            running, seen = 0.0, 0
            for X, y in loader:
                X = X.to(device, non_blocking=True)
                y = y.to(device, non_blocking=True)
                optimizer.zero_grad(set_to_none=True)
                out = model(X)
                loss = loss_fn(out, y)
                loss.backward()
                optimizer.step()
                running += float(loss) * X.shape[0]
                seen += X.shape[0]
            return running / seen
        '''),
    "evaluate": _s('''
        @torch.no_grad()
        def evaluate(model, loader, loss_fn, device):
            model.eval()
            running, correct, seen = 0.0, 0.0, 0
            for X, y in loader:
                X, y = X.to(device), y.to(device)
                out = model(X)
                running += loss_fn(out, y).item() * len(y)
                correct += (out.argmax(dim=1) == y).float().sum().item()
                seen += len(y)
            return running / seen, correct / seen
        '''),
    "fit": _s('''
        def fit(model, train_loader, val_loader, loss_fn, optimizer, epochs, device):
            history = {"train_loss": [], "val_loss": [], "val_acc": []}
            best_state = None
            for epoch in range(1, epochs + 1):
                train_loss = train_epoch(model, train_loader, loss_fn, optimizer, device)
                val_loss, val_acc = evaluate(model, val_loader, loss_fn, device)
                for key, value in zip(history, (train_loss, val_loss, val_acc)):
                    history[key].append(value)
                if val_acc > max(history["val_acc"][:-1], default=-1.0):
                    best_state = copy.deepcopy(model.state_dict())
            return history, best_state
        '''),
    "save_checkpoint": _s('''
        def save_checkpoint(model, optimizer, path):
            torch.save({"model": model.state_dict(), "optim": optimizer.state_dict(), "version": 1}, path)
        '''),
    "load_checkpoint": _s('''
        def load_checkpoint(model, optimizer, path):
            device = next(iter(model.state_dict().values())).device
            ckpt = torch.load(path, map_location=device, weights_only=True)
            model.load_state_dict(ckpt["model"])
            optimizer.load_state_dict(ckpt["optim"])
        '''),
}

C04 = {
    "MyLinear": _s('''
        class MyLinear(nn.Module):
            def __init__(self, in_features, out_features):
                super().__init__()
                import math
                k = 1 / math.sqrt(in_features)
                self.W = nn.Parameter(torch.empty(out_features, in_features))
                nn.init.uniform_(self.W, -k, k)
                self.b = nn.Parameter(torch.empty(out_features).uniform_(-k, k))

            def forward(self, X):
                return X.matmul(self.W.t()) + self.b
        '''),
    "MLP": _s('''
        class MLP(nn.Module):
            """Built from my own MyLinear layers in an nn.Sequential with named entries."""

            def __init__(self, d_in, hidden_dims, d_out, nonlin="relu"):
                super().__init__()
                from collections import OrderedDict
                if nonlin == "relu":
                    make_act = nn.ReLU
                elif nonlin == "tanh":
                    make_act = nn.Tanh
                elif nonlin == "sigmoid":
                    make_act = nn.Sigmoid
                else:
                    raise ValueError(nonlin)
                entries = [("flatten", nn.Flatten())]
                previous = d_in
                for i, h in enumerate(hidden_dims):
                    entries.append((f"hidden{i}", MyLinear(previous, h)))
                    entries.append((f"{nonlin}{i}", make_act()))
                    previous = h
                entries.append(("output", MyLinear(previous, d_out)))
                entries.append(("log_softmax", nn.LogSoftmax(dim=1)))
                self.model = nn.Sequential(OrderedDict(entries))

            def forward(self, X):
                return self.model(X)
        '''),
    "train_epoch": _s('''
        def train_epoch(model, loader, loss_fn, optimizer, device):
            model.train()
            loss_sum, n_samples = 0.0, 0
            for i, (X, y) in enumerate(loader):
                X, y = X.to(device), y.to(device)
                model.zero_grad()
                loss = loss_fn(model(X), y)
                loss.backward()
                optimizer.step()
                loss_sum += loss.item() * y.numel()
                n_samples += y.numel()
            return loss_sum / n_samples
        '''),
    "evaluate": _s('''
        def evaluate(model, loader, loss_fn, device):
            model.eval()
            loss_sum = torch.zeros((), device=device)
            correct = torch.zeros((), dtype=torch.long, device=device)
            n = 0
            with torch.no_grad():
                for X, y in loader:
                    X, y = X.to(device), y.to(device)
                    log_probs = model(X)
                    loss_sum += loss_fn(log_probs, y) * len(y)
                    correct += (log_probs.argmax(1) == y).sum()
                    n += len(y)
            return loss_sum.item() / n, correct.item() / n
        '''),
    "fit": _s('''
        def fit(model, train_loader, val_loader, loss_fn, optimizer, epochs, device):
            history = {"train_loss": [], "val_loss": [], "val_acc": []}
            best_acc = None
            best_state = None
            progress = tqdm(range(epochs), leave=False)
            for epoch in progress:
                tl = train_epoch(model, train_loader, loss_fn, optimizer, device)
                vl, va = evaluate(model, val_loader, loss_fn, device)
                history["train_loss"].append(tl)
                history["val_loss"].append(vl)
                history["val_acc"].append(va)
                progress.set_postfix(train_loss=f"{tl:.3f}", val_acc=f"{va:.3f}")
                if best_acc is None or va > best_acc:
                    best_acc = va
                    best_state = copy.deepcopy(model).state_dict()   # a copy of the whole model
            return history, best_state
        '''),
    "save_checkpoint": _s('''
        def save_checkpoint(model, optimizer, path):
            checkpoint = {
                "epoch": None,
                "model": model.state_dict(),
                "optimizer": optimizer.state_dict(),
            }
            torch.save(checkpoint, path)
        '''),
    "load_checkpoint": _s('''
        def load_checkpoint(model, optimizer, path):
            device = next(model.parameters()).device
            checkpoint = torch.load(path, map_location=device, weights_only=True)
            model.load_state_dict(checkpoint["model"], strict=True)
            optimizer.load_state_dict(checkpoint["optimizer"])
            return checkpoint.get("epoch")
        '''),
}

C05 = {
    "MyLinear": _s('''
        class MyLinear(nn.Module):
            def __init__(self, in_features, out_features):
                super().__init__()
                import math
                bound = 1 / math.sqrt(in_features)
                W = torch.empty(out_features, in_features)
                W.uniform_(-bound, bound)
                self.W = nn.Parameter(W)
                self.register_parameter("b", nn.Parameter(torch.empty(out_features).uniform_(-bound, bound)))

            def forward(self, X):
                return (self.W @ X.T).T + self.b
        '''),
    "MLP": _s('''
        class MLP(nn.Module):
            def __init__(self, d_in, hidden_dims, d_out, nonlin="relu"):
                super().__init__()
                make = {"relu": lambda: nn.ReLU(), "tanh": lambda: nn.Tanh(), "sigmoid": lambda: nn.Sigmoid()}[nonlin]
                layers = []
                prev = d_in
                for h in hidden_dims:
                    layers.append(nn.Linear(prev, h))
                    layers.append(make())
                    prev = h
                layers.append(nn.Linear(prev, d_out))
                self.layers = nn.ModuleList(layers)

            def forward(self, X):
                X = X.view(X.shape[0], -1)
                for layer in self.layers:
                    X = layer(X)
                return F.log_softmax(X, 1)
        '''),
    "train_epoch": _s('''
        def train_epoch(model, loader, loss_fn, optimizer, device):
            model.train()
            losses, sizes = [], []
            for X, y in loader:
                X, y = X.to(device), y.to(device)
                optimizer.zero_grad()
                loss = loss_fn(model(X), y)
                loss.backward()
                optimizer.step()
                losses.append(loss.item())
                sizes.append(len(y))
            return sum(l * s for l, s in zip(losses, sizes)) / sum(sizes)
        '''),
    "evaluate": _s('''
        def evaluate(model, loader, loss_fn, device):
            model.eval()
            outputs, targets = [], []
            with torch.no_grad():
                for X, y in loader:
                    outputs.append(model(X.to(device)))
                    targets.append(y.to(device))
            out, target = torch.cat(outputs), torch.cat(targets)
            with torch.no_grad():
                loss = loss_fn(out, target).item()
            acc = (out.argmax(dim=1) == target).float().mean().item()
            return loss, acc
        '''),
    "fit": _s('''
        def fit(model, train_loader, val_loader, loss_fn, optimizer, epochs, device):
            history = dict(train_loss=[], val_loss=[], val_acc=[])
            best_acc, best_state = -1, None
            for epoch in range(epochs):
                history["train_loss"].append(train_epoch(model, train_loader, loss_fn, optimizer, device))
                loss, acc = evaluate(model, val_loader, loss_fn, device)
                history["val_loss"].append(loss)
                history["val_acc"].append(acc)
                if acc > best_acc:
                    best_acc, best_state = acc, copy.deepcopy(model.state_dict())
                print(f"epoch {epoch + 1}/{epochs}: train {history['train_loss'][-1]:.4f}, "
                      f"val {loss:.4f}, acc {acc:.4f}")
            return history, best_state
        '''),
    "save_checkpoint": _s('''
        def save_checkpoint(model, optimizer, path):
            torch.save(dict(model=model.state_dict(), optimizer=optimizer.state_dict()), os.fspath(path))
        '''),
    "load_checkpoint": _s('''
        def load_checkpoint(model, optimizer, path):
            where = next(model.parameters()).device
            data = torch.load(os.fspath(path), map_location=where, weights_only=True)
            model.load_state_dict(data["model"])
            optimizer.load_state_dict(data["optimizer"])
            return model, optimizer
        '''),
}

C06 = {   # checkpoint keys of the PyTorch tutorial
    "MyLinear": _s('''
        class MyLinear(nn.Module):
            def __init__(self, in_features, out_features):
                super().__init__()
                limit = in_features ** -0.5
                self.W = nn.Parameter(torch.FloatTensor(out_features, in_features).uniform_(-limit, limit))
                self.b = nn.Parameter(torch.FloatTensor(out_features).uniform_(-limit, limit))

            def forward(self, X):
                return torch.matmul(X, self.W.transpose(0, 1)) + self.b
        '''),
    "MLP": _s('''
        class MLP(nn.Module):
            ACTIVATIONS = {"relu": "ReLU", "tanh": "Tanh", "sigmoid": "Sigmoid"}

            def __init__(self, d_in, hidden_dims, d_out, nonlin="relu"):
                super().__init__()
                act_cls = getattr(nn, self.ACTIVATIONS[nonlin])
                blocks = []
                for fan_in, fan_out in zip([d_in, *hidden_dims], hidden_dims):
                    blocks.append(nn.Sequential(nn.Linear(fan_in, fan_out), act_cls()))
                self.hidden = nn.Sequential(*blocks)
                self.out = nn.Linear(([d_in] + list(hidden_dims))[-1], d_out)

            def forward(self, X):
                return torch.log_softmax(self.out(self.hidden(X.flatten(1))), dim=1)
        '''),
    "train_epoch": _s('''
        def train_epoch(model, loader, loss_fn, optimizer, device):
            model.train()
            total_loss = 0.0
            total_n = 0
            for batch in loader:
                inputs, targets = (t.to(device) for t in batch)
                optimizer.zero_grad(set_to_none=True)
                predictions = model(inputs)
                loss = loss_fn(predictions, targets)
                loss.backward()
                optimizer.step()
                batch_size = inputs.size(0)
                total_loss += loss.item() * batch_size
                total_n += batch_size
            return total_loss / total_n
        '''),
    "evaluate": _s('''
        def evaluate(model, loader, loss_fn, device):
            model.eval()
            total_loss, total_correct, total_n = 0.0, 0, 0
            with torch.no_grad():
                for batch in loader:
                    inputs, targets = (t.to(device) for t in batch)
                    predictions = model(inputs)
                    total_loss += loss_fn(predictions, targets).item() * inputs.size(0)
                    total_correct += predictions.argmax(1).eq(targets).sum().item()
                    total_n += inputs.size(0)
            return total_loss / total_n, total_correct / total_n
        '''),
    "fit": _s('''
        def fit(model, train_loader, val_loader, loss_fn, optimizer, epochs, device):
            history = {key: [] for key in ("train_loss", "val_loss", "val_acc")}
            best_val_acc = -1.0
            best_state = None
            for epoch in tqdm(range(epochs), leave=False):
                history["train_loss"].append(train_epoch(model, train_loader, loss_fn, optimizer, device))
                val_loss, val_acc = evaluate(model, val_loader, loss_fn, device)
                history["val_loss"].append(val_loss)
                history["val_acc"].append(val_acc)
                if val_acc > best_val_acc:
                    best_val_acc = val_acc
                    best_state = copy.deepcopy(model.state_dict())
            return history, best_state
        '''),
    "save_checkpoint": _s('''
        def save_checkpoint(model, optimizer, path):
            torch.save({
                "model_state_dict": model.state_dict(),
                "optimizer_state_dict": optimizer.state_dict(),
            }, path)
        '''),
    "load_checkpoint": _s('''
        def load_checkpoint(model, optimizer, path):
            checkpoint = torch.load(path, map_location=next(model.parameters()).device, weights_only=True)
            model.load_state_dict(checkpoint["model_state_dict"])
            optimizer.load_state_dict(checkpoint["optimizer_state_dict"])
        '''),
}

# C07: fit loads the best state into the model before returning
C07 = dict(C01)
C07["fit"] = _s('''
    def fit(model, train_loader, val_loader, loss_fn, optimizer, epochs, device):
        history = {"train_loss": [], "val_loss": [], "val_acc": []}
        best_acc, best_state = -1.0, None
        for epoch in range(epochs):
            history["train_loss"].append(train_epoch(model, train_loader, loss_fn, optimizer, device))
            val_loss, val_acc = evaluate(model, val_loader, loss_fn, device)
            history["val_loss"].append(val_loss)
            history["val_acc"].append(val_acc)
            if val_acc > best_acc:
                best_acc, best_state = val_acc, copy.deepcopy(model.state_dict())
        if best_state is not None:
            model.load_state_dict(best_state)   # early stopping: leave the model at its best epoch
        return history, best_state
    ''')
C07["MLP"] = _s('''
    class MLP(nn.Module):
        def __init__(self, d_in, hidden_dims, d_out, nonlin="relu"):
            super().__init__()
            self.flatten = nn.Flatten()
            self.linears = nn.ModuleList()
            for fan_in, fan_out in zip([d_in] + list(hidden_dims), list(hidden_dims) + [d_out]):
                self.linears.append(nn.Linear(fan_in, fan_out))
            self.activation = nn.ModuleDict({"relu": nn.ReLU(), "tanh": nn.Tanh(), "sigmoid": nn.Sigmoid()})[nonlin]

        def forward(self, X):
            X = self.flatten(X)
            for linear in self.linears[:-1]:
                X = self.activation(linear(X))
            return F.log_softmax(self.linears[-1](X), dim=1)
    ''')

# C08: best_state kept on the CPU (detached clones)
C08 = dict(C02)
C08["fit"] = _s('''
    def fit(model, train_loader, val_loader, loss_fn, optimizer, epochs, device):
        history = {"train_loss": [], "val_loss": [], "val_acc": []}
        best_acc, best_state = float("-inf"), None
        for epoch in range(epochs):
            train_loss = train_epoch(model, train_loader, loss_fn, optimizer, device)
            val_loss, val_acc = evaluate(model, val_loader, loss_fn, device)
            history["train_loss"].append(train_loss)
            history["val_loss"].append(val_loss)
            history["val_acc"].append(val_acc)
            if val_acc > best_acc:
                best_acc = val_acc
                best_state = {name: t.detach().cpu().clone() for name, t in model.state_dict().items()}
        return history, best_state
    ''')
C08["train_epoch"] = C01["train_epoch"]

# C09: evaluate switches back to train mode at the end (unconditionally); loss kept as a detached tensor
C09 = dict(C03)
C09["evaluate"] = _s('''
    def evaluate(model, loader, loss_fn, device):
        model.eval()
        loss_total, correct, n = 0.0, 0, 0
        with torch.no_grad():
            for X, y in loader:
                X, y = X.to(device), y.to(device)
                log_probs = model(X)
                loss_total += loss_fn(log_probs, y).item() * len(X)
                correct += (torch.argmax(log_probs, dim=1) == y).sum().item()
                n += len(X)
        model.train()
        return loss_total / n, correct / n
    ''')
C09["train_epoch"] = _s('''
    def train_epoch(model, loader, loss_fn, optimizer, device):
        model.train()
        total = torch.zeros((), device=device)
        n = 0
        for X, y in loader:
            X, y = X.to(device), y.to(device)
            optimizer.zero_grad()
            loss = loss_fn(model(X), y)
            loss.backward()
            optimizer.step()
            total += loss.detach() * len(X)     # no .item() per batch: no GPU sync
            n += len(X)
        return (total / n).item()
    ''')

# C10: batches moved to the model's device (always the same as `device` in the notebook)
C10 = dict(C04)
C10["train_epoch"] = _s('''
    def train_epoch(model, loader, loss_fn, optimizer, device):
        model.train()
        device = next(model.parameters()).device      # wherever the model lives
        total, n = 0.0, 0
        for X, y in loader:
            X, y = X.to(device), y.to(device)
            optimizer.zero_grad()
            loss = loss_fn(model(X), y)
            loss.backward()
            optimizer.step()
            total += loss.item() * len(y)
            n += len(y)
        return total / n
    ''')
C10["MLP"] = C01["MLP"]

# C11: output layer registered before the hidden layers
C11 = dict(C01)
C11["MLP"] = _s('''
    class MLP(nn.Module):
        def __init__(self, d_in, hidden_dims, d_out, nonlin="relu"):
            super().__init__()
            last = hidden_dims[-1] if len(hidden_dims) > 0 else d_in
            self.output = nn.Linear(last, d_out)
            self.hidden = nn.ModuleList()
            prev = d_in
            for h in hidden_dims:
                self.hidden.append(nn.Linear(prev, h))
                prev = h
            self.act = {"relu": F.relu, "tanh": torch.tanh, "sigmoid": torch.sigmoid}[nonlin]

        def forward(self, X):
            h = X.flatten(start_dim=1)
            for layer in self.hidden:
                h = self.act(layer(h))
            return F.log_softmax(self.output(h), dim=1)
    ''')

C12 = {
    "MyLinear": _s('''
        class MyLinear(nn.Module):
            def __init__(self, in_features, out_features):
                super().__init__()
                bound = 1.0 / torch.sqrt(torch.tensor(float(in_features)))
                self.W = nn.Parameter(torch.distributions.Uniform(-bound, bound).sample((out_features, in_features)))
                self.b = nn.Parameter(torch.distributions.Uniform(-bound, bound).sample((out_features,)))

            def forward(self, X):
                return torch.einsum("ni,oi->no", X, self.W) + self.b
        '''),
    "MLP": _s('''
        class MLP(nn.Module):
            def __init__(self, d_in, hidden_dims, d_out, nonlin="relu"):
                super().__init__()
                acts = {"relu": nn.ReLU(), "tanh": nn.Tanh(), "sigmoid": nn.Sigmoid()}
                modules = [nn.Flatten(start_dim=1)]
                widths = [d_in, *hidden_dims, d_out]
                for i in range(len(widths) - 1):
                    modules.append(nn.Linear(widths[i], widths[i + 1]))
                    modules.append(acts[nonlin])          # the same (stateless) module each time
                modules[-1] = nn.LogSoftmax(dim=1)        # no activation after the last layer
                self.seq = nn.Sequential(*modules)

            def forward(self, X):
                return self.seq(X)
        '''),
    "train_epoch": _s('''
        def train_epoch(model, loader, loss_fn, optimizer, device):
            model.train()
            optimizer.zero_grad()
            total, n = 0.0, 0
            for X, y in loader:
                X, y = X.to(device), y.to(device)
                loss = loss_fn(model(X), y)
                loss.backward()
                optimizer.step()
                optimizer.zero_grad()
                total += loss.item() * len(X)
                n += len(X)
            return total / n
        '''),
    "evaluate": _s('''
        def evaluate(model, loader, loss_fn, device):
            model.eval()
            sum_loss, n_correct, n_total = 0.0, 0, 0
            with torch.inference_mode():
                for X, y in loader:
                    X, y = X.to(device), y.to(device)
                    scores = model(X)
                    b = X.shape[0]
                    sum_loss += b * loss_fn(scores, y).item()
                    n_correct += (scores.max(dim=1).indices == y).sum().item()
                    n_total += b
            return sum_loss / n_total, n_correct / n_total
        '''),
    "fit": _s('''
        def fit(model, train_loader, val_loader, loss_fn, optimizer, epochs, device):
            history = {"train_loss": [], "val_loss": [], "val_acc": []}
            best_epoch, best_state = None, None
            for epoch in range(epochs):
                history["train_loss"].append(train_epoch(model, train_loader, loss_fn, optimizer, device))
                vl, va = evaluate(model, val_loader, loss_fn, device)
                history["val_loss"].append(vl)
                history["val_acc"].append(va)
                if best_epoch is None or va > history["val_acc"][best_epoch]:
                    best_epoch = epoch
                    best_state = copy.deepcopy(model.state_dict())
            return history, best_state
        '''),
    "save_checkpoint": _s('''
        def save_checkpoint(model, optimizer, path):
            torch.save({"model": copy.deepcopy(model.state_dict()),
                        "optimizer": copy.deepcopy(optimizer.state_dict())}, path)
        '''),
    "load_checkpoint": _s('''
        def load_checkpoint(model, optimizer, path):
            device = next(model.parameters()).device
            with open(path, "rb") as f:
                checkpoint = torch.load(f, map_location=device, weights_only=True)
            model.load_state_dict(checkpoint["model"])
            optimizer.load_state_dict(checkpoint["optimizer"])
        '''),
}

C13 = {
    "MyLinear": _s('''
        class MyLinear(nn.Module):
            def __init__(self, in_features, out_features):
                super().__init__()
                self.in_features, self.out_features = in_features, out_features
                self.W = nn.Parameter(torch.Tensor(out_features, in_features))
                self.b = nn.Parameter(torch.Tensor(out_features))
                self.reset_parameters()

            def reset_parameters(self):
                bound = 1 / self.in_features ** 0.5
                with torch.no_grad():
                    self.W.uniform_(-bound, bound)
                    self.b.uniform_(-bound, bound)

            def forward(self, X):
                return X @ self.W.T + self.b.unsqueeze(0)

            def extra_repr(self):
                return f"in_features={self.in_features}, out_features={self.out_features}"
        '''),
    "MLP": _s('''
        class MLP(nn.Module):
            def __init__(self, d_in, hidden_dims, d_out, nonlin="relu"):
                super().__init__()
                self.d_in = d_in
                self.nonlin = nonlin
                dims = [d_in] + list(hidden_dims) + [d_out]
                self.layers = nn.ModuleList([nn.Linear(i, o) for i, o in zip(dims, dims[1:])])

            def _activate(self, Z):
                if self.nonlin == "relu":
                    return F.relu(Z)
                if self.nonlin == "tanh":
                    return torch.tanh(Z)
                if self.nonlin == "sigmoid":
                    return torch.sigmoid(Z)
                raise ValueError(f"nonlin must be relu, tanh or sigmoid, not {self.nonlin!r}")

            def forward(self, X):
                Z = X.reshape(-1, self.d_in)
                *hidden, last = self.layers
                for layer in hidden:
                    Z = self._activate(layer(Z))
                Z = last(Z)
                Z = Z - Z.max(dim=1, keepdim=True).values
                return Z - Z.exp().sum(dim=1, keepdim=True).log()
        '''),
    "train_epoch": _s('''
        def train_epoch(model, loader, loss_fn, optimizer, device):
            model.train()
            epoch_loss = 0.0
            n_seen = 0
            for X_batch, y_batch in loader:
                X_batch = X_batch.to(device)
                y_batch = y_batch.to(device)
                log_probs = model(X_batch)
                loss = loss_fn(log_probs, y_batch)
                optimizer.zero_grad()
                loss.backward()
                optimizer.step()
                epoch_loss += loss.item() * len(X_batch)
                n_seen += len(X_batch)
            return epoch_loss / n_seen
        '''),
    "evaluate": _s('''
        def evaluate(model, loader, loss_fn, device):
            model.eval()
            with torch.no_grad():
                losses, hits, n = [], [], 0
                for X_batch, y_batch in loader:
                    X_batch, y_batch = X_batch.to(device), y_batch.to(device)
                    log_probs = model(X_batch)
                    losses.append(loss_fn(log_probs, y_batch).item() * len(y_batch))
                    hits.append((log_probs.argmax(dim=1) == y_batch).sum().item())
                    n += len(y_batch)
            return float(sum(losses) / n), float(sum(hits) / n)
        '''),
    "fit": _s('''
        def fit(model, train_loader, val_loader, loss_fn, optimizer, epochs, device):
            history = {"train_loss": [], "val_loss": [], "val_acc": []}
            best_state = None
            best_acc = -float("inf")
            bar = tqdm(total=epochs, desc="fit", leave=False)
            for epoch in range(epochs):
                train_loss = train_epoch(model, train_loader, loss_fn, optimizer, device)
                val_loss, val_acc = evaluate(model, val_loader, loss_fn, device)
                history["train_loss"].append(train_loss)
                history["val_loss"].append(val_loss)
                history["val_acc"].append(val_acc)
                if val_acc > best_acc:
                    best_acc = val_acc
                    best_state = copy.deepcopy(model.state_dict())
                bar.update(1)
            bar.close()
            return history, best_state
        '''),
    "save_checkpoint": _s('''
        def save_checkpoint(model, optimizer, path):
            """Both state_dicts, in one file."""
            payload = {}
            payload["model"] = model.state_dict()
            payload["optimizer"] = optimizer.state_dict()
            with open(path, "wb") as f:
                torch.save(payload, f)
        '''),
    "load_checkpoint": _s('''
        def load_checkpoint(model, optimizer, path):
            param = next(model.parameters())
            payload = torch.load(path, map_location=lambda storage, loc: storage.to(device=param.device),
                                 weights_only=True)
            model.load_state_dict(payload["model"])
            optimizer.load_state_dict(payload["optimizer"])
        '''),
}

C14 = {
    "MyLinear": C02["MyLinear"],
    "MLP": _s('''
        class MLP(nn.Module):
            def __init__(self, d_in, hidden_dims, d_out, nonlin="relu"):
                super().__init__()
                activation = {"relu": nn.ReLU, "tanh": nn.Tanh, "sigmoid": nn.Sigmoid}[nonlin]
                self.net = nn.Sequential(nn.Flatten())
                in_dim = d_in
                for k, out_dim in enumerate(hidden_dims):
                    self.net.add_module(f"linear{k}", nn.Linear(in_dim, out_dim))
                    self.net.add_module(f"act{k}", activation())
                    in_dim = out_dim
                self.net.add_module("head", nn.Linear(in_dim, d_out))

            def forward(self, X):
                scores = self.net(X)
                return scores.log_softmax(dim=1)
        '''),
    "train_epoch": _s('''
        def train_epoch(model, loader, loss_fn, optimizer, device):
            model.train()
            sum_loss = 0.0
            n = 0
            for X, y in loader:
                X, y = X.to(device), y.to(device)
                optimizer.zero_grad(set_to_none=True)
                output = model(X)
                loss = loss_fn(output, y)
                loss.backward()
                optimizer.step()
                with torch.no_grad():
                    sum_loss += loss.item() * X.size(0)
                n += X.size(0)
            mean = sum_loss / n
            return float(mean)
        '''),
    "evaluate": _s('''
        def evaluate(model, loader, loss_fn, device):
            model.eval()
            n, loss_sum, n_right = 0, 0.0, 0
            for X, y in loader:
                X, y = X.to(device), y.to(device)
                with torch.no_grad():
                    out = model(X)
                    loss_sum += loss_fn(out, y).item() * len(y)
                n_right += torch.sum(torch.argmax(out, 1) == y).item()
                n += len(y)
            return loss_sum / n, n_right / n
        '''),
    "fit": _s('''
        def fit(model, train_loader, val_loader, loss_fn, optimizer, epochs, device):
            history = {"train_loss": [], "val_loss": [], "val_acc": []}
            best_state = None
            for epoch in tqdm(range(epochs), unit="epoch", leave=False):
                history["train_loss"].append(train_epoch(model, train_loader, loss_fn, optimizer, device))
                val_loss, val_acc = evaluate(model, val_loader, loss_fn, device)
                history["val_loss"].append(val_loss)
                history["val_acc"].append(val_acc)
                if val_acc == max(history["val_acc"]) and history["val_acc"].count(val_acc) == 1:
                    best_state = copy.deepcopy(model.state_dict())
            return history, best_state
        '''),
    "save_checkpoint": _s('''
        def save_checkpoint(model, optimizer, path):
            folder = os.path.dirname(os.path.abspath(path))
            os.makedirs(folder, exist_ok=True)
            torch.save({"model": model.state_dict(), "optimizer": optimizer.state_dict()}, path)
        '''),
    "load_checkpoint": _s('''
        def load_checkpoint(model, optimizer, path):
            device = next(model.parameters()).device
            ckpt = torch.load(path, map_location=str(device), weights_only=True)
            model.load_state_dict(ckpt["model"])
            optimizer.load_state_dict(ckpt["optimizer"])
        '''),
}

# C15: relies on torch.load's default weights_only=True (PyTorch >= 2.6); saves with pathlib
C15 = dict(C12)
C15["save_checkpoint"] = _s('''
    def save_checkpoint(model, optimizer, path):
        from pathlib import Path
        torch.save({"model": model.state_dict(), "optimizer": optimizer.state_dict()}, Path(path))
    ''')
C15["load_checkpoint"] = _s('''
    def load_checkpoint(model, optimizer, path):
        # weights_only=True is torch.load's default since PyTorch 2.6
        checkpoint = torch.load(path, map_location=next(model.parameters()).device)
        model.load_state_dict(checkpoint["model"])
        optimizer.load_state_dict(checkpoint["optimizer"])
    ''')
C15["MLP"] = C13["MLP"]

CORRECT = [
    ("c01_canonical", C01, "nn.Sequential with nn.Flatten, activation dict, X @ W.T + b, uniform_ init; "
     "standard loop with zero_grad first; no_grad evaluate left in eval mode; deepcopy best; "
     "{'model','optimizer'} checkpoint with map_location=model device, weights_only=True."),
    ("c02_flinear_modulelist", C02, "kaiming_uniform_(a=sqrt 5) init (same bound as nn.Linear), F.linear; "
     "ModuleList + if/elif torch.relu/tanh/sigmoid, log-softmax as Z - logsumexp; "
     "AMBIGUOUS-ISH: zero_grad(set_to_none=False) only right after step() (no reset before the first batch; "
     "the notebook explicitly allows this placement); inference_mode evaluate restoring the previous mode; "
     "{k: v.clone()} best state."),
    ("c03_addmm_setattr", C03, "rand*2-1 scaled init, torch.addmm; layers as fc0..fcK attributes via setattr, "
     "getattr(torch, nonlin); reshape flatten, log_softmax(dim=-1); non_blocking moves, float(loss); "
     "@torch.no_grad() decorated evaluate; best via max(previous val_acc); checkpoint keys 'model'/'optim'/'version'."),
    ("c04_mylinear_mlp", C04, "MLP built from the student's own MyLinear in an OrderedDict nn.Sequential ending "
     "with nn.LogSoftmax(dim=1); model.zero_grad() instead of optimizer.zero_grad(); evaluate accumulates "
     "device tensors under no_grad; best state = copy.deepcopy(model).state_dict(); checkpoint with an 'epoch' "
     "entry, load returns it."),
    ("c05_view_concat", C05, "(W @ X.T).T + b, register_parameter; ModuleList with interleaved activation modules, "
     "flatten with X.view(N, -1) (works for contiguous inputs only); losses collected in lists; evaluate "
     "concatenates all outputs and calls loss_fn once (same value for a mean-reduced loss); fit prints per epoch; "
     "os.fspath paths; load returns (model, optimizer)."),
    ("c06_tutorial_keys", C06, "FloatTensor(...).uniform_ init, matmul/transpose; hidden blocks as nested "
     "Sequentials + separate output layer; torch.log_softmax; batch unpacked by generator; "
     "AMBIGUOUS: checkpoint keys 'model_state_dict'/'optimizer_state_dict' (PyTorch tutorial names; the "
     "notebook says key names are free, but its ungraded resume_demo cell reads ckpt['model'])."),
    ("c07_restore_best", C07, "c01 with an MLP of nn.Flatten + ModuleList + ModuleDict-selected activation; "
     "AMBIGUOUS: fit loads best_state into the model before returning (model ends at the best epoch, not the last)."),
    ("c08_cpu_best_state", C08, "c02 with the c01 train_epoch; AMBIGUOUS on GPU only: best_state is "
     "{k: v.detach().cpu().clone()} (a deep copy, but on the CPU, not on the model's device)."),
    ("c09_eval_then_train", C09, "c03 with: AMBIGUOUS: evaluate calls model.train() unconditionally at the end; "
     "train_epoch accumulates loss.detach() * len(X) in a device tensor and returns .item() of the mean."),
    ("c10_model_device", C10, "c04 with c01's MLP; AMBIGUOUS: train_epoch moves batches to "
     "next(model.parameters()).device instead of the `device` argument (identical whenever the model is on "
     "`device`, as the spec's callers always have it)."),
    ("c11_output_first", C11, "c01 with an MLP that registers the output layer before the hidden ModuleList "
     "(forward order is still d_in -> hidden -> d_out); AMBIGUOUS: named_parameters()/modules() order is not "
     "the forward order, so code that takes 'the first 2-D parameter' as the first layer (the notebook's "
     "ungraded weights cell) picks the output layer."),
    ("c12_einsum_shared_act", C12, "torch.distributions.Uniform init, einsum forward; one shared activation module "
     "reused between layers, last activation replaced by nn.LogSoftmax; zero_grad before the loop and after each "
     "step; inference_mode evaluate using max().indices; best tracked by epoch index; checkpoint deep-copies the "
     "state_dicts, load via an open file object."),
    ("c13_manual_logsoftmax", C13, "torch.Tensor(...) + reset_parameters under no_grad, b.unsqueeze(0); "
     "ModuleList with a method choosing the activation; X.reshape(-1, d_in) flatten; log-softmax written "
     "by hand (max-shifted); zero_grad after forward, before backward; evaluate builds lists; manual tqdm bar; "
     "save through an open file; map_location as a lambda."),
    ("c14_add_module", C14, "kaiming init; nn.Sequential grown with add_module; Tensor.log_softmax; "
     "evaluate with no_grad only around forward+loss; fit's improvement test via max/count (first occurrence "
     "of a new maximum); save makes the folder; map_location=str(device)."),
    ("c15_default_weights_only", C15, "c12 with c13's MLP; save through pathlib.Path; AMBIGUOUS: load_checkpoint "
     "omits weights_only and relies on torch.load's default (True since PyTorch 2.6, as the notebook itself "
     "says); identical behaviour with the course's torch, but no explicit weights_only=True in the call."),
]

# ======================================================================================
# Bug entries: ONE graded name each (combine with any correct entry)
# ======================================================================================

BUGS = []


def bug(name, fname, source, description):
    BUGS.append((name, fname, _s(source), description))


# ---------------------------------------------------------------- MyLinear
bug("lin_W_in_out", "MyLinear", '''
    class MyLinear(nn.Module):
        def __init__(self, in_features, out_features):
            super().__init__()
            bound = 1 / in_features ** 0.5
            self.W = nn.Parameter(torch.empty(in_features, out_features).uniform_(-bound, bound))
            self.b = nn.Parameter(torch.empty(out_features).uniform_(-bound, bound))

        def forward(self, X):
            return X @ self.W + self.b
    ''', "MyLinear stores W as (in_features, out_features) (notebook 03's layout) and computes X @ W + b; "
         "spec requires W of shape (out, in) and F.linear(X, W, b) equality.")

bug("lin_plain_tensors", "MyLinear", '''
    class MyLinear(nn.Module):
        def __init__(self, in_features, out_features):
            super().__init__()
            bound = 1 / in_features ** 0.5
            self.W = torch.empty(out_features, in_features).uniform_(-bound, bound).requires_grad_()
            self.b = torch.empty(out_features).uniform_(-bound, bound).requires_grad_()

        def forward(self, X):
            return X @ self.W.T + self.b
    ''', "MyLinear keeps W and b as plain tensors with requires_grad (not nn.Parameter): not registered, "
         "parameters() is empty, .to() does not move them, an optimizer never sees them.")

bug("lin_randn_init", "MyLinear", '''
    class MyLinear(nn.Module):
        def __init__(self, in_features, out_features):
            super().__init__()
            self.W = nn.Parameter(torch.randn(out_features, in_features))
            self.b = nn.Parameter(torch.randn(out_features))

        def forward(self, X):
            return X @ self.W.T + self.b
    ''', "MyLinear initialises W (and b) from a standard normal: scale 1 instead of uniform in "
         "[-1/sqrt(in), 1/sqrt(in)] (28x too large for in=784).")

bug("lin_zero_init", "MyLinear", '''
    class MyLinear(nn.Module):
        def __init__(self, in_features, out_features):
            super().__init__()
            self.W = nn.Parameter(torch.zeros(out_features, in_features))
            self.b = nn.Parameter(torch.zeros(out_features))

        def forward(self, X):
            return X @ self.W.T + self.b
    ''', "MyLinear initialises W and b to zeros (units stay identical; spec/docstring require uniform init).")

bug("lin_bound_out", "MyLinear", '''
    class MyLinear(nn.Module):
        def __init__(self, in_features, out_features):
            super().__init__()
            bound = 1 / out_features ** 0.5
            self.W = nn.Parameter(torch.empty(out_features, in_features).uniform_(-bound, bound))
            self.b = nn.Parameter(torch.empty(out_features).uniform_(-bound, bound))

        def forward(self, X):
            return X @ self.W.T + self.b
    ''', "MyLinear uses bound 1/sqrt(out_features) instead of 1/sqrt(in_features) (MyLinear(784, 100): 0.1 "
         "instead of 0.0357).")

bug("lin_bound_1_over_n", "MyLinear", '''
    class MyLinear(nn.Module):
        def __init__(self, in_features, out_features):
            super().__init__()
            bound = 1 / in_features
            self.W = nn.Parameter(torch.empty(out_features, in_features).uniform_(-bound, bound))
            self.b = nn.Parameter(torch.empty(out_features).uniform_(-bound, bound))

        def forward(self, X):
            return X @ self.W.T + self.b
    ''', "MyLinear uses bound 1/in_features instead of 1/sqrt(in_features) (28x too small for in=784).")

bug("lin_positive_init", "MyLinear", '''
    class MyLinear(nn.Module):
        def __init__(self, in_features, out_features):
            super().__init__()
            bound = 1 / in_features ** 0.5
            self.W = nn.Parameter(torch.rand(out_features, in_features) * bound)
            self.b = nn.Parameter(torch.rand(out_features) * bound)

        def forward(self, X):
            return X @ self.W.T + self.b
    ''', "MyLinear draws W from U[0, bound] (torch.rand * bound) instead of U[-bound, bound]: all weights positive.")

bug("lin_no_bias_in_forward", "MyLinear", '''
    class MyLinear(nn.Module):
        def __init__(self, in_features, out_features):
            super().__init__()
            bound = 1 / in_features ** 0.5
            self.W = nn.Parameter(torch.empty(out_features, in_features).uniform_(-bound, bound))
            self.b = nn.Parameter(torch.empty(out_features).uniform_(-bound, bound))

        def forward(self, X):
            return X @ self.W.T
    ''', "MyLinear.forward forgets + b (output differs from F.linear(X, W, b)).")

bug("lin_bias_2d", "MyLinear", '''
    class MyLinear(nn.Module):
        def __init__(self, in_features, out_features):
            super().__init__()
            bound = 1 / in_features ** 0.5
            self.W = nn.Parameter(torch.empty(out_features, in_features).uniform_(-bound, bound))
            self.b = nn.Parameter(torch.empty(1, out_features).uniform_(-bound, bound))

        def forward(self, X):
            return X @ self.W.T + self.b
    ''', "MyLinear stores b with shape (1, out_features) instead of (out_features,): outputs broadcast fine "
         "but the parameter shape violates the spec (and nn.Linear's bias.copy_(b) in the notebook fails).")

bug("lin_bias_zero_init", "MyLinear", '''
    class MyLinear(nn.Module):
        def __init__(self, in_features, out_features):
            super().__init__()
            bound = 1 / in_features ** 0.5
            self.W = nn.Parameter(torch.empty(out_features, in_features).uniform_(-bound, bound))
            self.b = nn.Parameter(torch.zeros(out_features))

        def forward(self, X):
            return X @ self.W.T + self.b
    ''', "SPEC-LETTER ONLY (harmless in practice): MyLinear initialises b to zeros; the docstring says "
         "W and b are initialised like nn.Linear, uniform in [-1/sqrt(in), 1/sqrt(in)]. Tests may well "
         "accept this; it is listed so the maintainers can decide.")

bug("lin_forward_rows_loop", "MyLinear", '''
    class MyLinear(nn.Module):
        def __init__(self, in_features, out_features):
            super().__init__()
            bound = 1 / in_features ** 0.5
            self.W = nn.Parameter(torch.empty(out_features, in_features).uniform_(-bound, bound))
            self.b = nn.Parameter(torch.empty(out_features).uniform_(-bound, bound))

        def forward(self, X):
            return self.W @ X[0] + self.b
    ''', "MyLinear.forward handles only the first sample (W @ X[0] + b): shape (out,) instead of (N, out).")

# ---------------------------------------------------------------- MLP
bug("mlp_python_list", "MLP", '''
    class MLP(nn.Module):
        def __init__(self, d_in, hidden_dims, d_out, nonlin="relu"):
            super().__init__()
            acts = {"relu": torch.relu, "tanh": torch.tanh, "sigmoid": torch.sigmoid}
            self.act = acts[nonlin]
            dims = [d_in] + list(hidden_dims) + [d_out]
            self.layers = [nn.Linear(a, b) for a, b in zip(dims[:-1], dims[1:])]

        def forward(self, X):
            X = X.flatten(1)
            for layer in self.layers[:-1]:
                X = self.act(layer(X))
            return F.log_softmax(self.layers[-1](X), dim=1)
    ''', "MLP keeps its layers in a plain Python list: not registered, parameters() is empty "
         "(0 parameters instead of 44,458), never trained, not moved by .to(device).")

bug("mlp_no_activation", "MLP", '''
    class MLP(nn.Module):
        def __init__(self, d_in, hidden_dims, d_out, nonlin="relu"):
            super().__init__()
            dims = [d_in] + list(hidden_dims) + [d_out]
            self.net = nn.Sequential(nn.Flatten(), *[nn.Linear(a, b) for a, b in zip(dims[:-1], dims[1:])])

        def forward(self, X):
            return F.log_softmax(self.net(X), dim=1)
    ''', "MLP has no activation between the linear layers (nonlin ignored): the whole network is linear.")

bug("mlp_act_after_last", "MLP", '''
    class MLP(nn.Module):
        def __init__(self, d_in, hidden_dims, d_out, nonlin="relu"):
            super().__init__()
            activations = {"relu": nn.ReLU, "tanh": nn.Tanh, "sigmoid": nn.Sigmoid}
            dims = [d_in] + list(hidden_dims) + [d_out]
            layers = [nn.Flatten()]
            for a, b in zip(dims[:-1], dims[1:]):
                layers += [nn.Linear(a, b), activations[nonlin]()]
            self.net = nn.Sequential(*layers)

        def forward(self, X):
            return F.log_softmax(self.net(X), dim=1)
    ''', "MLP applies the activation after the output layer too (before log_softmax): scores squashed "
         "(tanh/sigmoid) or clipped (relu); spec says not after the last layer.")

bug("mlp_softmax", "MLP", '''
    class MLP(nn.Module):
        def __init__(self, d_in, hidden_dims, d_out, nonlin="relu"):
            super().__init__()
            activations = {"relu": nn.ReLU, "tanh": nn.Tanh, "sigmoid": nn.Sigmoid}
            dims = [d_in] + list(hidden_dims)
            layers = [nn.Flatten()]
            for a, b in zip(dims[:-1], dims[1:]):
                layers += [nn.Linear(a, b), activations[nonlin]()]
            layers.append(nn.Linear(dims[-1], d_out))
            self.net = nn.Sequential(*layers)

        def forward(self, X):
            return F.softmax(self.net(X), dim=1)
    ''', "MLP returns probabilities (softmax) instead of log-probabilities.")

bug("mlp_raw_scores", "MLP", '''
    class MLP(nn.Module):
        def __init__(self, d_in, hidden_dims, d_out, nonlin="relu"):
            super().__init__()
            activations = {"relu": nn.ReLU, "tanh": nn.Tanh, "sigmoid": nn.Sigmoid}
            dims = [d_in] + list(hidden_dims)
            layers = [nn.Flatten()]
            for a, b in zip(dims[:-1], dims[1:]):
                layers += [nn.Linear(a, b), activations[nonlin]()]
            layers.append(nn.Linear(dims[-1], d_out))
            self.net = nn.Sequential(*layers)

        def forward(self, X):
            return self.net(X)
    ''', "MLP returns the raw scores (no log_softmax), as if for nn.CrossEntropyLoss.")

bug("mlp_log_of_softmax", "MLP", '''
    class MLP(nn.Module):
        def __init__(self, d_in, hidden_dims, d_out, nonlin="relu"):
            super().__init__()
            activations = {"relu": nn.ReLU, "tanh": nn.Tanh, "sigmoid": nn.Sigmoid}
            dims = [d_in] + list(hidden_dims)
            layers = [nn.Flatten()]
            for a, b in zip(dims[:-1], dims[1:]):
                layers += [nn.Linear(a, b), activations[nonlin]()]
            layers.append(nn.Linear(dims[-1], d_out))
            self.net = nn.Sequential(*layers)

        def forward(self, X):
            return torch.log(F.softmax(self.net(X), dim=1))
    ''', "MLP computes log(softmax(z)) in two steps: equal for moderate scores but -inf (and nan gradients) "
         "when scores differ by more than ~100; the notebook explicitly asks for the stable log_softmax. "
         "Only detectable with large scores.")

bug("mlp_no_flatten", "MLP", '''
    class MLP(nn.Module):
        def __init__(self, d_in, hidden_dims, d_out, nonlin="relu"):
            super().__init__()
            activations = {"relu": nn.ReLU, "tanh": nn.Tanh, "sigmoid": nn.Sigmoid}
            dims = [d_in] + list(hidden_dims)
            layers = []
            for a, b in zip(dims[:-1], dims[1:]):
                layers += [nn.Linear(a, b), activations[nonlin]()]
            layers.append(nn.Linear(dims[-1], d_out))
            self.net = nn.Sequential(*layers)

        def forward(self, X):
            return F.log_softmax(self.net(X), dim=1)
    ''', "MLP does not flatten its input: (N, 2, 3) images fail (or are mis-shaped) for d_in = 6.")

bug("mlp_flatten_784", "MLP", '''
    class MLP(nn.Module):
        def __init__(self, d_in, hidden_dims, d_out, nonlin="relu"):
            super().__init__()
            activations = {"relu": nn.ReLU, "tanh": nn.Tanh, "sigmoid": nn.Sigmoid}
            dims = [d_in] + list(hidden_dims)
            layers = []
            for a, b in zip(dims[:-1], dims[1:]):
                layers += [nn.Linear(a, b), activations[nonlin]()]
            layers.append(nn.Linear(dims[-1], d_out))
            self.net = nn.Sequential(*layers)

        def forward(self, X):
            return F.log_softmax(self.net(X.view(-1, 784)), dim=1)
    ''', "MLP flattens with a hard-coded X.view(-1, 784): works for MNIST only, fails for any other d_in.")

bug("mlp_logsoftmax_dim0", "MLP", '''
    class MLP(nn.Module):
        def __init__(self, d_in, hidden_dims, d_out, nonlin="relu"):
            super().__init__()
            activations = {"relu": nn.ReLU, "tanh": nn.Tanh, "sigmoid": nn.Sigmoid}
            dims = [d_in] + list(hidden_dims)
            layers = [nn.Flatten()]
            for a, b in zip(dims[:-1], dims[1:]):
                layers += [nn.Linear(a, b), activations[nonlin]()]
            layers.append(nn.Linear(dims[-1], d_out))
            self.net = nn.Sequential(*layers)

        def forward(self, X):
            return F.log_softmax(self.net(X), dim=0)
    ''', "MLP normalises over the batch (log_softmax dim=0) instead of over the classes (dim=1).")

bug("mlp_ignores_nonlin", "MLP", '''
    class MLP(nn.Module):
        def __init__(self, d_in, hidden_dims, d_out, nonlin="relu"):
            super().__init__()
            dims = [d_in] + list(hidden_dims)
            layers = [nn.Flatten()]
            for a, b in zip(dims[:-1], dims[1:]):
                layers += [nn.Linear(a, b), nn.ReLU()]
            layers.append(nn.Linear(dims[-1], d_out))
            self.net = nn.Sequential(*layers)

        def forward(self, X):
            return F.log_softmax(self.net(X), dim=1)
    ''', "MLP always uses ReLU, ignoring nonlin ('tanh'/'sigmoid' models are wrong).")

bug("mlp_needs_hidden", "MLP", '''
    class MLP(nn.Module):
        def __init__(self, d_in, hidden_dims, d_out, nonlin="relu"):
            super().__init__()
            activations = {"relu": nn.ReLU, "tanh": nn.Tanh, "sigmoid": nn.Sigmoid}
            layers = [nn.Flatten(), nn.Linear(d_in, hidden_dims[0]), activations[nonlin]()]
            for a, b in zip(hidden_dims[:-1], hidden_dims[1:]):
                layers += [nn.Linear(a, b), activations[nonlin]()]
            layers.append(nn.Linear(hidden_dims[-1], d_out))
            self.net = nn.Sequential(*layers)

        def forward(self, X):
            return F.log_softmax(self.net(X), dim=1)
    ''', "MLP assumes at least one hidden layer (hidden_dims[0]): MLP(784, [], 10) (logistic regression, "
         "used in the notebook's architecture experiment) raises IndexError; 'any depth' includes 0.")

bug("mlp_default_tanh", "MLP", '''
    class MLP(nn.Module):
        def __init__(self, d_in, hidden_dims, d_out, nonlin="tanh"):
            super().__init__()
            activations = {"relu": nn.ReLU, "tanh": nn.Tanh, "sigmoid": nn.Sigmoid}
            dims = [d_in] + list(hidden_dims)
            layers = [nn.Flatten()]
            for a, b in zip(dims[:-1], dims[1:]):
                layers += [nn.Linear(a, b), activations[nonlin]()]
            layers.append(nn.Linear(dims[-1], d_out))
            self.net = nn.Sequential(*layers)

        def forward(self, X):
            return F.log_softmax(self.net(X), dim=1)
    ''', "MLP's default nonlin is 'tanh' instead of 'relu' (signature in spec: nonlin=\"relu\"); "
         "MLP(12, [9, 7], 5) computes the wrong function.")

bug("mlp_sigmoid_is_tanh", "MLP", '''
    class MLP(nn.Module):
        def __init__(self, d_in, hidden_dims, d_out, nonlin="relu"):
            super().__init__()
            act = nn.ReLU if nonlin == "relu" else nn.Tanh     # "squashing" activations lumped together
            dims = [d_in] + list(hidden_dims)
            layers = [nn.Flatten()]
            for a, b in zip(dims[:-1], dims[1:]):
                layers += [nn.Linear(a, b), act()]
            layers.append(nn.Linear(dims[-1], d_out))
            self.net = nn.Sequential(*layers)

        def forward(self, X):
            return F.log_softmax(self.net(X), dim=1)
    ''', "MLP maps nonlin='sigmoid' to tanh (relu and tanh are right).")

bug("mlp_skips_last_hidden", "MLP", '''
    class MLP(nn.Module):
        def __init__(self, d_in, hidden_dims, d_out, nonlin="relu"):
            super().__init__()
            activations = {"relu": nn.ReLU, "tanh": nn.Tanh, "sigmoid": nn.Sigmoid}
            layers = [nn.Flatten()]
            prev = d_in
            for h in hidden_dims[:-1]:
                layers += [nn.Linear(prev, h), activations[nonlin]()]
                prev = h
            layers.append(nn.Linear(prev, d_out))
            self.net = nn.Sequential(*layers)

        def forward(self, X):
            return F.log_softmax(self.net(X), dim=1)
    ''', "MLP off-by-one: loops over hidden_dims[:-1], so the last hidden layer is missing "
         "(MLP(12, [9, 7], 5) is 12 -> 9 -> 5).")

# ---------------------------------------------------------------- train_epoch
bug("te_no_zero_grad", "train_epoch", '''
    def train_epoch(model, loader, loss_fn, optimizer, device):
        model.train()
        total, n = 0.0, 0
        for X, y in loader:
            X, y = X.to(device), y.to(device)
            loss = loss_fn(model(X), y)
            loss.backward()
            optimizer.step()
            total += loss.item() * len(X)
            n += len(X)
        return total / n
    ''', "train_epoch never calls zero_grad: gradients accumulate across batches, step k uses the sum of "
         "batches 1..k.")

bug("te_zero_grad_before_step", "train_epoch", '''
    def train_epoch(model, loader, loss_fn, optimizer, device):
        model.train()
        total, n = 0.0, 0
        for X, y in loader:
            X, y = X.to(device), y.to(device)
            loss = loss_fn(model(X), y)
            loss.backward()
            optimizer.zero_grad()
            optimizer.step()
            total += loss.item() * len(X)
            n += len(X)
        return total / n
    ''', "train_epoch calls zero_grad between backward() and step(): the gradients are erased before the "
         "step, so the parameters never change.")

bug("te_step_before_backward", "train_epoch", '''
    def train_epoch(model, loader, loss_fn, optimizer, device):
        model.train()
        total, n = 0.0, 0
        for X, y in loader:
            X, y = X.to(device), y.to(device)
            optimizer.zero_grad()
            loss = loss_fn(model(X), y)
            optimizer.step()
            loss.backward()
            total += loss.item() * len(X)
            n += len(X)
        return total / n
    ''', "train_epoch calls step() before backward(): each step sees no (freshly zeroed) gradient; "
         "the model never learns.")

bug("te_no_train_mode", "train_epoch", '''
    def train_epoch(model, loader, loss_fn, optimizer, device):
        total, n = 0.0, 0
        for X, y in loader:
            X, y = X.to(device), y.to(device)
            optimizer.zero_grad()
            loss = loss_fn(model(X), y)
            loss.backward()
            optimizer.step()
            total += loss.item() * len(X)
            n += len(X)
        return total / n
    ''', "train_epoch never calls model.train(): after an evaluate() the model trains in eval mode "
         "(dropout off).")

bug("te_eval_mode", "train_epoch", '''
    def train_epoch(model, loader, loss_fn, optimizer, device):
        model.eval()
        total, n = 0.0, 0
        for X, y in loader:
            X, y = X.to(device), y.to(device)
            optimizer.zero_grad()
            loss = loss_fn(model(X), y)
            loss.backward()
            optimizer.step()
            total += loss.item() * len(X)
            n += len(X)
        return total / n
    ''', "train_epoch puts the model in eval mode (model.eval() instead of model.train()).")

bug("te_mean_of_batch_means", "train_epoch", '''
    def train_epoch(model, loader, loss_fn, optimizer, device):
        model.train()
        losses = []
        for X, y in loader:
            X, y = X.to(device), y.to(device)
            optimizer.zero_grad()
            loss = loss_fn(model(X), y)
            loss.backward()
            optimizer.step()
            losses.append(loss.item())
        return sum(losses) / len(losses)
    ''', "train_epoch returns the mean of the batch means (not weighted by batch size): wrong when the "
         "last batch is smaller.")

bug("te_divide_by_batches_times_size", "train_epoch", '''
    def train_epoch(model, loader, loss_fn, optimizer, device):
        model.train()
        total = 0.0
        batch_size = None
        for X, y in loader:
            X, y = X.to(device), y.to(device)
            if batch_size is None:
                batch_size = len(X)
            optimizer.zero_grad()
            loss = loss_fn(model(X), y)
            loss.backward()
            optimizer.step()
            total += loss.item() * len(X)
        return total / (len(loader) * batch_size)
    ''', "train_epoch divides by len(loader) * first batch size, i.e. assumes every batch is full: "
         "too small a mean when the last batch is short (12 samples counted as 15).")

bug("te_len_dataset", "train_epoch", '''
    def train_epoch(model, loader, loss_fn, optimizer, device):
        model.train()
        total = 0.0
        for X, y in loader:
            X, y = X.to(device), y.to(device)
            optimizer.zero_grad()
            loss = loss_fn(model(X), y)
            loss.backward()
            optimizer.step()
            total += loss.item() * len(X)
        return total / len(loader.dataset)
    ''', "train_epoch divides by len(loader.dataset) (torch DataLoader idiom): the course's ArrayLoader "
         "(and any iterable of batches) has no .dataset -> AttributeError.")

bug("te_last_batch_loss", "train_epoch", '''
    def train_epoch(model, loader, loss_fn, optimizer, device):
        model.train()
        for X, y in loader:
            X, y = X.to(device), y.to(device)
            optimizer.zero_grad()
            loss = loss_fn(model(X), y)
            loss.backward()
            optimizer.step()
        return loss.item()
    ''', "train_epoch returns the last batch's loss instead of the epoch mean.")

bug("te_tensor_sum", "train_epoch", '''
    def train_epoch(model, loader, loss_fn, optimizer, device):
        model.train()
        total, n = 0, 0
        for X, y in loader:
            X, y = X.to(device), y.to(device)
            optimizer.zero_grad()
            loss = loss_fn(model(X), y)
            loss.backward()
            optimizer.step()
            total = total + loss * len(X)
            n += len(X)
        return total / n
    ''', "train_epoch sums loss tensors (no .item()): returns a tensor with a grad_fn instead of a Python "
         "float, keeping every batch's graph alive (the notebook warns about exactly this).")

bug("te_y_not_moved", "train_epoch", '''
    def train_epoch(model, loader, loss_fn, optimizer, device):
        model.train()
        total, n = 0.0, 0
        for X, y in loader:
            X = X.to(device)
            optimizer.zero_grad()
            loss = loss_fn(model(X), y)
            loss.backward()
            optimizer.step()
            total += loss.item() * len(X)
            n += len(X)
        return total / n
    ''', "train_epoch moves only X to device, not the labels y (fails on a GPU with CPU loaders).")

bug("te_not_moved", "train_epoch", '''
    def train_epoch(model, loader, loss_fn, optimizer, device):
        model.train()
        total, n = 0.0, 0
        for X, y in loader:
            optimizer.zero_grad()
            loss = loss_fn(model(X), y)
            loss.backward()
            optimizer.step()
            total += loss.item() * len(X)
            n += len(X)
        return total / n
    ''', "train_epoch never moves the batches to device (works only when the loader already yields "
         "tensors on the model's device).")

# ---------------------------------------------------------------- evaluate
bug("ev_no_eval_mode", "evaluate", '''
    def evaluate(model, loader, loss_fn, device):
        total, correct, n = 0.0, 0, 0
        with torch.no_grad():
            for X, y in loader:
                X, y = X.to(device), y.to(device)
                out = model(X)
                total += loss_fn(out, y).item() * len(X)
                correct += (out.argmax(dim=1) == y).sum().item()
                n += len(X)
        return total / n, correct / n
    ''', "evaluate never calls model.eval(): dropout stays on, the evaluation is random.")

bug("ev_no_no_grad", "evaluate", '''
    def evaluate(model, loader, loss_fn, device):
        model.eval()
        total, correct, n = 0.0, 0, 0
        for X, y in loader:
            X, y = X.to(device), y.to(device)
            out = model(X)
            total += loss_fn(out, y).item() * len(X)
            correct += (out.argmax(dim=1) == y).sum().item()
            n += len(X)
        return total / n, correct / n
    ''', "evaluate runs without torch.no_grad(): a graph is recorded for every batch (memory and time).")

bug("ev_mean_of_batch_means", "evaluate", '''
    def evaluate(model, loader, loss_fn, device):
        model.eval()
        losses, accs = [], []
        with torch.no_grad():
            for X, y in loader:
                X, y = X.to(device), y.to(device)
                out = model(X)
                losses.append(loss_fn(out, y).item())
                accs.append((out.argmax(dim=1) == y).float().mean().item())
        return sum(losses) / len(losses), sum(accs) / len(accs)
    ''', "evaluate averages per-batch means of loss and accuracy (unweighted): wrong with a short last batch.")

bug("ev_acc_mean_of_batches", "evaluate", '''
    def evaluate(model, loader, loss_fn, device):
        model.eval()
        total, acc_sum, n, batches = 0.0, 0.0, 0, 0
        with torch.no_grad():
            for X, y in loader:
                X, y = X.to(device), y.to(device)
                out = model(X)
                total += loss_fn(out, y).item() * len(X)
                acc_sum += (out.argmax(dim=1) == y).float().mean().item()
                n += len(X)
                batches += 1
        return total / n, acc_sum / batches
    ''', "evaluate weights the loss correctly but the accuracy is the unweighted mean of batch accuracies.")

bug("ev_argmax_dim0", "evaluate", '''
    def evaluate(model, loader, loss_fn, device):
        model.eval()
        total, correct, n = 0.0, 0, 0
        with torch.no_grad():
            for X, y in loader:
                X, y = X.to(device), y.to(device)
                out = model(X)
                total += loss_fn(out, y).item() * len(X)
                correct += (out.argmax(dim=0) == y).sum().item()
                n += len(X)
        return total / n, correct / n
    ''', "evaluate predicts with argmax over dim=0 (over the batch) instead of dim=1 (over classes).")

bug("ev_acc_percent", "evaluate", '''
    def evaluate(model, loader, loss_fn, device):
        model.eval()
        total, correct, n = 0.0, 0, 0
        with torch.no_grad():
            for X, y in loader:
                X, y = X.to(device), y.to(device)
                out = model(X)
                total += loss_fn(out, y).item() * len(X)
                correct += (out.argmax(dim=1) == y).sum().item()
                n += len(X)
        return total / n, 100.0 * correct / n
    ''', "evaluate returns the accuracy in percent (0-100) instead of a fraction in [0, 1].")

bug("ev_acc_tensor", "evaluate", '''
    def evaluate(model, loader, loss_fn, device):
        model.eval()
        total, correct, n = 0.0, 0, 0
        with torch.no_grad():
            for X, y in loader:
                X, y = X.to(device), y.to(device)
                out = model(X)
                total += loss_fn(out, y).item() * len(X)
                correct += (out.argmax(dim=1) == y).sum()
                n += len(X)
        return total / n, correct / n
    ''', "evaluate returns the accuracy as a 0-dim tensor (sum() without .item()), not a Python float as "
         "the notebook requires (on a GPU it is a CUDA tensor in history['val_acc']).")

bug("ev_not_moved", "evaluate", '''
    def evaluate(model, loader, loss_fn, device):
        model.eval()
        total, correct, n = 0.0, 0, 0
        with torch.no_grad():
            for X, y in loader:
                out = model(X)
                total += loss_fn(out, y).item() * len(X)
                correct += (out.argmax(dim=1) == y).sum().item()
                n += len(X)
        return total / n, correct / n
    ''', "evaluate does not move the batches to device.")

bug("ev_trains", "evaluate", '''
    def evaluate(model, loader, loss_fn, device):
        model.eval()
        total, correct, n = 0.0, 0, 0
        for X, y in loader:
            X, y = X.to(device), y.to(device)
            out = model(X)
            loss = loss_fn(out, y)
            loss.backward()
            total += loss.item() * len(X)
            correct += (out.argmax(dim=1) == y).sum().item()
            n += len(X)
        return total / n, correct / n
    ''', "evaluate builds a graph and even calls loss.backward(): no no_grad, and it fills .grad of the "
         "parameters (which a zero_grad-after-step training loop would then use).")

# ---------------------------------------------------------------- fit
_FIT_HEAD = '''
    def fit(model, train_loader, val_loader, loss_fn, optimizer, epochs, device):
        history = {"train_loss": [], "val_loss": [], "val_acc": []}
        best_acc, best_state = -1.0, None
        for epoch in range(epochs):
            history["train_loss"].append(train_epoch(model, train_loader, loss_fn, optimizer, device))
            val_loss, val_acc = evaluate(model, val_loader, loss_fn, device)
            history["val_loss"].append(val_loss)
            history["val_acc"].append(val_acc)
'''


def _fit(body, tail="        return history, best_state\n"):
    return _FIT_HEAD + body + tail


bug("fit_by_reference", "fit", _fit('''
            if val_acc > best_acc:
                best_acc, best_state = val_acc, model.state_dict()
'''), "fit keeps best_state = model.state_dict() without a copy: later optimizer steps change it "
      "(ends equal to the last epoch's weights).")

bug("fit_shallow_copy", "fit", _fit('''
            if val_acc > best_acc:
                best_acc, best_state = val_acc, model.state_dict().copy()
'''), "fit keeps model.state_dict().copy(): a new dict of the SAME tensors, changed by later steps.")

bug("fit_detach_no_clone", "fit", _fit('''
            if val_acc > best_acc:
                best_acc = val_acc
                best_state = {k: v.detach() for k, v in model.state_dict().items()}
'''), "fit keeps {k: v.detach()}: detach() shares storage with the parameters, so later steps change it.")

bug("fit_best_by_val_loss", "fit", '''
    def fit(model, train_loader, val_loader, loss_fn, optimizer, epochs, device):
        history = {"train_loss": [], "val_loss": [], "val_acc": []}
        best_loss, best_state = float("inf"), None
        for epoch in range(epochs):
            history["train_loss"].append(train_epoch(model, train_loader, loss_fn, optimizer, device))
            val_loss, val_acc = evaluate(model, val_loader, loss_fn, device)
            history["val_loss"].append(val_loss)
            history["val_acc"].append(val_acc)
            if val_loss < best_loss:
                best_loss, best_state = val_loss, copy.deepcopy(model.state_dict())
        return history, best_state
    ''', "fit selects the best epoch by lowest validation LOSS; spec says highest validation accuracy.")

bug("fit_last_epoch", "fit", _fit('''
            best_state = copy.deepcopy(model.state_dict())
'''), "fit copies the state after every epoch unconditionally: best_state is the last epoch's, not the best.")

bug("fit_ties_later", "fit", _fit('''
            if val_acc >= best_acc:
                best_acc, best_state = val_acc, copy.deepcopy(model.state_dict())
'''), "AMBIGUOUS-LEANING BUG: fit uses >= so on a tie the LATER epoch replaces the best; the notebook says "
      "'whenever the validation accuracy is higher than at every earlier epoch' (strictly higher -> first "
      "epoch of a tie). COURSE.md only says 'at the epoch with the best validation accuracy'.")

bug("fit_best_init_zero", "fit", '''
    def fit(model, train_loader, val_loader, loss_fn, optimizer, epochs, device):
        history = {"train_loss": [], "val_loss": [], "val_acc": []}
        best_acc, best_state = 0.0, None
        for epoch in range(epochs):
            history["train_loss"].append(train_epoch(model, train_loader, loss_fn, optimizer, device))
            val_loss, val_acc = evaluate(model, val_loader, loss_fn, device)
            history["val_loss"].append(val_loss)
            history["val_acc"].append(val_acc)
            if val_acc > best_acc:
                best_acc, best_state = val_acc, copy.deepcopy(model.state_dict())
        return history, best_state
    ''', "EDGE CASE: fit starts best_acc at 0.0 with a strict >, so if every epoch's accuracy is 0 "
         "best_state stays None (should be the state of the best = first epoch).")

bug("fit_validate_before_train", "fit", '''
    def fit(model, train_loader, val_loader, loss_fn, optimizer, epochs, device):
        history = {"train_loss": [], "val_loss": [], "val_acc": []}
        best_acc, best_state = -1.0, None
        for epoch in range(epochs):
            val_loss, val_acc = evaluate(model, val_loader, loss_fn, device)
            history["val_loss"].append(val_loss)
            history["val_acc"].append(val_acc)
            if val_acc > best_acc:
                best_acc, best_state = val_acc, copy.deepcopy(model.state_dict())
            history["train_loss"].append(train_epoch(model, train_loader, loss_fn, optimizer, device))
        return history, best_state
    ''', "fit validates BEFORE each epoch's training: val entries are one epoch late, the last epoch's "
         "model is never validated, best_state can be the untrained model.")

bug("fit_swapped_return", "fit", _fit('''
            if val_acc > best_acc:
                best_acc, best_state = val_acc, copy.deepcopy(model.state_dict())
''', tail="        return best_state, history\n"),
    "fit returns (best_state, history) instead of (history, best_state).")

bug("fit_wrong_keys", "fit", '''
    def fit(model, train_loader, val_loader, loss_fn, optimizer, epochs, device):
        history = {"train_losses": [], "val_losses": [], "val_accs": []}
        best_acc, best_state = -1.0, None
        for epoch in range(epochs):
            history["train_losses"].append(train_epoch(model, train_loader, loss_fn, optimizer, device))
            val_loss, val_acc = evaluate(model, val_loader, loss_fn, device)
            history["val_losses"].append(val_loss)
            history["val_accs"].append(val_acc)
            if val_acc > best_acc:
                best_acc, best_state = val_acc, copy.deepcopy(model.state_dict())
        return history, best_state
    ''', "fit's history uses the keys train_losses/val_losses/val_accs instead of train_loss/val_loss/val_acc.")

bug("fit_trains_on_val", "fit", _fit('''
            if val_acc > best_acc:
                best_acc, best_state = val_acc, copy.deepcopy(model.state_dict())
''').replace("train_epoch(model, train_loader,", "train_epoch(model, val_loader,"),
    "fit trains on val_loader (copy-paste slip): the training loader is never used.")

bug("fit_evaluates_train", "fit", _fit('''
            if val_acc > best_acc:
                best_acc, best_state = val_acc, copy.deepcopy(model.state_dict())
''').replace("evaluate(model, val_loader,", "evaluate(model, train_loader,"),
    "fit 'validates' on train_loader: val_loss/val_acc are training metrics, best epoch chosen on them.")

bug("fit_best_epoch_state_off_by_one", "fit", '''
    def fit(model, train_loader, val_loader, loss_fn, optimizer, epochs, device):
        history = {"train_loss": [], "val_loss": [], "val_acc": []}
        best_acc, best_state = -1.0, None
        snapshot = copy.deepcopy(model.state_dict())
        for epoch in range(epochs):
            history["train_loss"].append(train_epoch(model, train_loader, loss_fn, optimizer, device))
            val_loss, val_acc = evaluate(model, val_loader, loss_fn, device)
            history["val_loss"].append(val_loss)
            history["val_acc"].append(val_acc)
            if val_acc > best_acc:
                best_acc, best_state = val_acc, snapshot
            snapshot = copy.deepcopy(model.state_dict())
        return history, best_state
    ''', "fit stores the snapshot taken BEFORE the best epoch's training (off by one epoch): best_state is "
         "the previous epoch's weights (the untrained model if epoch 1 is best).")

# ---------------------------------------------------------------- checkpoints
bug("ck_model_only", "save_checkpoint", '''
    def save_checkpoint(model, optimizer, path):
        torch.save({"model": model.state_dict()}, path)
    ''', "save_checkpoint saves only the model's state (optimizer state lost; loading then fails or resumes "
         "with fresh momentum/Adam moments).")

bug("ck_whole_objects", "save_checkpoint", '''
    def save_checkpoint(model, optimizer, path):
        torch.save({"model": model, "optimizer": optimizer}, path)
    ''', "save_checkpoint pickles the whole model and optimizer objects instead of their state_dicts: "
         "torch.load(..., weights_only=True) refuses the file.")

bug("ck_save_params_list", "save_checkpoint", '''
    def save_checkpoint(model, optimizer, path):
        torch.save({"model": [p.detach() for p in model.parameters()], "optimizer": optimizer.state_dict()}, path)
    ''', "save_checkpoint saves a list of parameter tensors instead of model.state_dict(): "
         "load_state_dict cannot read it (and buffers would be lost).")

bug("ck_load_weights_only_false", "load_checkpoint", '''
    def load_checkpoint(model, optimizer, path):
        device = next(model.parameters()).device
        checkpoint = torch.load(path, map_location=device, weights_only=False)
        model.load_state_dict(checkpoint["model"])
        optimizer.load_state_dict(checkpoint["optimizer"])
    ''', "load_checkpoint uses weights_only=False (unpickles arbitrary objects); spec requires weights_only=True. "
         "Functionally identical on a state_dict checkpoint.")

bug("ck_load_no_map_location", "load_checkpoint", '''
    def load_checkpoint(model, optimizer, path):
        checkpoint = torch.load(path, weights_only=True)
        model.load_state_dict(checkpoint["model"])
        optimizer.load_state_dict(checkpoint["optimizer"])
    ''', "load_checkpoint has no map_location: a checkpoint written on a GPU cannot be loaded on a CPU-only "
         "machine; spec: 'maps to the model's device'.")

bug("ck_load_map_cpu", "load_checkpoint", '''
    def load_checkpoint(model, optimizer, path):
        checkpoint = torch.load(path, map_location="cpu", weights_only=True)
        model.load_state_dict(checkpoint["model"])
        optimizer.load_state_dict(checkpoint["optimizer"])
    ''', "SPEC-LETTER: load_checkpoint maps to 'cpu' instead of the model's device. Mostly harmless "
         "(load_state_dict copies into the GPU parameters and Optimizer.load_state_dict casts state to the "
         "parameters' device), but contradicts the docstring 'tensors mapped to the model's device'.")

bug("ck_load_global_device", "load_checkpoint", '''
    def load_checkpoint(model, optimizer, path):
        checkpoint = torch.load(path, map_location=device, weights_only=True)
        model.load_state_dict(checkpoint["model"])
        optimizer.load_state_dict(checkpoint["optimizer"])
    ''', "load_checkpoint maps to the notebook's GLOBAL `device` (not an argument), not to the model's device "
         "(a CPU model on a GPU machine gets CUDA tensors; NameError outside the notebook).")

bug("ck_load_into_new_model", "load_checkpoint", '''
    def load_checkpoint(model, optimizer, path):
        device = next(model.parameters()).device
        checkpoint = torch.load(path, map_location=device, weights_only=True)
        model = copy.deepcopy(model)
        model.load_state_dict(checkpoint["model"])
        optimizer.load_state_dict(checkpoint["optimizer"])
        return model
    ''', "load_checkpoint loads the weights into a COPY of the model and returns it: the given model is "
         "unchanged (spec: restore into the given model in place).")

bug("ck_load_new_optimizer", "load_checkpoint", '''
    def load_checkpoint(model, optimizer, path):
        device = next(model.parameters()).device
        checkpoint = torch.load(path, map_location=device, weights_only=True)
        model.load_state_dict(checkpoint["model"])
        optimizer = type(optimizer)(model.parameters(), **optimizer.defaults)
        optimizer.load_state_dict(checkpoint["optimizer"])
        return optimizer
    ''', "load_checkpoint builds a new optimizer and loads the state into it: the given optimizer keeps "
         "its old (e.g. empty) momentum/Adam state.")

bug("ck_load_skips_optimizer", "load_checkpoint", '''
    def load_checkpoint(model, optimizer, path):
        device = next(model.parameters()).device
        checkpoint = torch.load(path, map_location=device, weights_only=True)
        model.load_state_dict(checkpoint["model"])
    ''', "load_checkpoint restores only the model; the optimizer state in the file is ignored.")

bug("ck_load_optimizer_state_assign", "load_checkpoint", '''
    def load_checkpoint(model, optimizer, path):
        device = next(model.parameters()).device
        checkpoint = torch.load(path, map_location=device, weights_only=True)
        model.load_state_dict(checkpoint["model"])
        optimizer.state = checkpoint["optimizer"]["state"]
    ''', "load_checkpoint assigns the saved 'state' (keyed by integer ids) to optimizer.state, which the "
         "optimizer looks up by Parameter: the next step()/state_dict() raises KeyError; the momentum/Adam "
         "state is not restored (nor the param_groups).")


# ======================================================================================
ENTRIES = []
for _name, _functions, _description in CORRECT:
    assert set(_functions) == set(GRADED), _name
    ENTRIES.append({"name": _name, "kind": "correct", "functions": dict(_functions),
                    "description": _description})
_PAIR = {"save_checkpoint": "load_checkpoint", "load_checkpoint": "save_checkpoint"}
for _name, _fname, _source, _description in BUGS:
    _functions = {_fname: _source}
    _note = ""
    if _fname in _PAIR:
        # save/load are one answer cell and share a file format (key names): ship the wrong one
        # together with c01's matching partner, so the pair is self-consistent.
        _functions[_PAIR[_fname]] = C01[_PAIR[_fname]]
        _note = f" ({_PAIR[_fname]} is c01's correct one, included because the two share the file format.)"
    ENTRIES.append({"name": _name, "kind": "bug", "functions": _functions,
                    "description": f"[{_fname}] {_description}{_note}"})

if __name__ == "__main__":
    print(sum(e["kind"] == "correct" for e in ENTRIES), "correct,",
          sum(e["kind"] == "bug" for e in ENTRIES), "bug entries")
