"""04_torch_nn: the bugs of COURSE.md and the issue (and others students make with nn, optim
and checkpoints), and correct solutions written differently from ours."""

from grader.proving.variants import Variant

ASSIGNMENT = "04_torch_nn"
NOTEBOOK = "torch_nn"
# Tests of the whole pipeline on real data (COURSE.md, one bug one deduction): any bug may fail them.
END_TO_END = ("test_mnist_accuracy",)

_MYLINEAR_INIT = '''
    def __init__(self, in_features, out_features):
        super().__init__()
        bound = 1 / in_features ** 0.5
        self.W = nn.Parameter(torch.empty(out_features, in_features).uniform_(-bound, bound))
        self.b = nn.Parameter(torch.empty(out_features).uniform_(-bound, bound))
'''


def _mylinear(init=_MYLINEAR_INIT, forward="        return X @ self.W.T + self.b\n"):
    return f"class MyLinear(nn.Module):\n{init}\n    def forward(self, X):\n{forward}"


def _mlp(layers, forward="        return F.log_softmax(self.net(X), dim=1)\n", acts=None):
    acts = acts or '{"relu": nn.ReLU, "tanh": nn.Tanh, "sigmoid": nn.Sigmoid}'
    return f'''
class MLP(nn.Module):
    def __init__(self, d_in, hidden_dims, d_out, nonlin="relu"):
        super().__init__()
        act = {acts}[nonlin]
        dims = [d_in, *hidden_dims]
{layers}

    def forward(self, X):
{forward}'''


_SEQUENTIAL = '''        layers = [nn.Flatten()]
        for a, b in zip(dims[:-1], dims[1:]):
            layers += [nn.Linear(a, b), act()]
        layers.append(nn.Linear(dims[-1], d_out))
        self.net = nn.Sequential(*layers)'''


def _train_epoch(body):
    return f"def train_epoch(model, loader, loss_fn, optimizer, device):\n{body}"


def _evaluate(body):
    return f"def evaluate(model, loader, loss_fn, device):\n{body}"


def _fit(keep, better="val_acc > best_acc", before=False, loader="val_loader"):
    train = "        train_loss = train_epoch(model, train_loader, loss_fn, optimizer, device)\n"
    val = f"        val_loss, val_acc = evaluate(model, {loader}, loss_fn, device)\n"
    return f'''
def fit(model, train_loader, val_loader, loss_fn, optimizer, epochs, device):
    history = {{"train_loss": [], "val_loss": [], "val_acc": []}}
    best_acc, best_loss, best_state = -1.0, float("inf"), None
    for _ in range(epochs):
{val + train if before else train + val}        history["train_loss"].append(train_loss)
        history["val_loss"].append(val_loss)
        history["val_acc"].append(val_acc)
        if {better}:
            best_acc, best_loss = val_acc, val_loss
            best_state = {keep}
    return history, best_state
'''


_DEEPCOPY = "copy.deepcopy(model.state_dict())"
_SAVE = '''
def save_checkpoint(model, optimizer, path):
    torch.save({"model": model.state_dict(), "optimizer": optimizer.state_dict()}, path)
'''
_LOAD = '''
def load_checkpoint(model, optimizer, path):
    checkpoint = torch.load(path, map_location=next(model.parameters()).device, weights_only=True)
    model.load_state_dict(checkpoint["model"])
    optimizer.load_state_dict(checkpoint["optimizer"])
'''

_LOOP = '''    model.train()
    total, count = 0.0, 0
    for X, y in loader:
        X, y = X.to(device), y.to(device)
{step}
        total += loss.item() * len(X)
        count += len(X)
    return total / count
'''
_STEP = '''        optimizer.zero_grad()
        loss = loss_fn(model(X), y)
        loss.backward()
        optimizer.step()'''

_EVAL = '''    model.eval()
    total, correct, count = 0.0, 0, 0
    with torch.no_grad():
        for X, y in loader:
            X, y = X.to(device), y.to(device)
            out = model(X)
            total += loss_fn(out, y).item() * len(X)
            correct += (out.argmax(dim=1) == y).sum().item()
            count += len(X)
    return total / count, correct / count
'''

VARIANTS = [
    # ------------------------------------------------------------------ bugs: MyLinear
    # (The first bug of the first two targets listed here is what the example class's bob hands
    # in: a transposed MyLinear and a training loop without zero_grad.)
    Variant("MyLinear", _mylinear('''
    def __init__(self, in_features, out_features):
        super().__init__()
        bound = 1 / in_features ** 0.5
        self.W = nn.Parameter(torch.empty(in_features, out_features).uniform_(-bound, bound))
        self.b = nn.Parameter(torch.empty(out_features).uniform_(-bound, bound))
''', "        return X @ self.W + self.b\n"),
        "MyLinear with a transposed weight (in, out)", ("test_MyLinear",), "W is transposed"),
    Variant("train_epoch", _train_epoch(_LOOP.format(step='''        loss = loss_fn(model(X), y)
        loss.backward()
        optimizer.step()''')), "train_epoch without zero_grad", ("test_train_epoch",),
        "not reset, so they accumulate"),
    Variant("MyLinear.forward", '''
def forward(self, X):
    return X @ self.W + self.b
''', "MyLinear multiplies by W instead of W.T", ("test_MyLinear",), "computes X @ W.T + b"),
    Variant("MyLinear", _mylinear('''
    def __init__(self, in_features, out_features):
        super().__init__()
        bound = 1 / in_features ** 0.5
        self.W = nn.Parameter(torch.empty(out_features, in_features).uniform_(-bound, bound))
        self.b = torch.zeros(out_features)
'''), "MyLinear's bias is a plain tensor, not a Parameter", ("test_MyLinear",), "not an nn.Parameter"),
    Variant("MyLinear", _mylinear('''
    def __init__(self, in_features, out_features):
        super().__init__()
        self.W = torch.randn(out_features, in_features, requires_grad=True) / in_features ** 0.5
        self.b = torch.zeros(out_features, requires_grad=True)
'''), "MyLinear keeps W and b as plain tensors (not registered)", ("test_MyLinear",),
        "not an nn.Parameter"),
    Variant("MyLinear", _mylinear('''
    def __init__(self, in_features, out_features):
        super().__init__()
        self.W = nn.Parameter(torch.randn(out_features, in_features, dtype=torch.float64) / in_features ** 0.5)
        self.b = nn.Parameter(torch.zeros(out_features, dtype=torch.float64))
'''), "MyLinear's parameters are float64", ("test_MyLinear",), "float32"),
    Variant("MyLinear.forward", '''
def forward(self, X):
    return X @ self.W.T
''', "MyLinear forgets the bias", ("test_MyLinear",), "bias is not added"),
    Variant("MyLinear", _mylinear('''
    def __init__(self, in_features, out_features):
        super().__init__()
        self.W = nn.Parameter(torch.zeros(out_features, in_features))
        self.b = nn.Parameter(torch.zeros(out_features))
'''), "MyLinear initialises W with zeros", ("test_MyLinear",), "all weights are equal"),
    Variant("MyLinear", _mylinear('''
    def __init__(self, in_features, out_features):
        super().__init__()
        self.W = nn.Parameter(torch.randn(out_features, in_features))
        self.b = nn.Parameter(torch.zeros(out_features))
'''), "MyLinear initialises W with standard-normal weights", ("test_MyLinear",), "too large"),
    Variant("MyLinear.forward", '''
def forward(self, X):
    return X @ self.W.data.T + self.b
''', "MyLinear's forward uses W.data (no gradient reaches W)", ("test_MyLinear",), "detached copy"),
    Variant("MyLinear.forward", '''
def forward(self, X):
    out = torch.zeros(X.shape[0], self.W.shape[0])
    return out + X @ self.W.T + self.b
''', "MyLinear's forward makes a tensor on the CPU", ("test_MyLinear",), "made on the CPU"),
    # ------------------------------------------------------------------ bugs: MLP
    Variant("MLP", _mlp('''        self.layers = []
        for a, b in zip(dims[:-1], dims[1:]):
            self.layers += [nn.Linear(a, b), act()]
        self.layers.append(nn.Linear(dims[-1], d_out))''', '''        X = X.flatten(1)
        for layer in self.layers:
            X = layer(X)
        return F.log_softmax(X, dim=1)
'''), "MLP keeps its layers in a plain Python list", ("test_MLP_structure", "test_MLP_forward"),
        "plain Python list"),
    Variant("MLP.forward", '''
def forward(self, X):
    return self.net(X)
''', "MLP returns scores, not log-probabilities", ("test_MLP_forward",), "not log-probabilities"),
    Variant("MLP.forward", '''
def forward(self, X):
    return F.softmax(self.net(X), dim=1)
''', "MLP returns softmax probabilities", ("test_MLP_forward",), "probabilities (softmax)"),
    Variant("MLP.forward", '''
def forward(self, X):
    return F.log_softmax(self.net(X), dim=0)
''', "MLP's log_softmax over the batch dimension", ("test_MLP_forward",), "wrong dimension"),
    Variant("MLP", _mlp('''        sizes = dims + [d_out]
        layers = [nn.Flatten()]
        for a, b in zip(sizes[:-1], sizes[1:]):
            layers += [nn.Linear(a, b), act()]
        self.net = nn.Sequential(*layers)'''),
        "MLP applies the activation after the last layer too", ("test_MLP_forward",),
        "after the last layer"),
    Variant("MLP", _mlp(_SEQUENTIAL, acts='{"relu": nn.ReLU, "tanh": nn.Sigmoid, "sigmoid": nn.Tanh}'),
        "MLP maps tanh to sigmoid and sigmoid to tanh", ("test_MLP_forward",), "wrong function"),
    Variant("MLP", _mlp(_SEQUENTIAL, acts='{"relu": nn.ReLU, "tanh": nn.ReLU, "sigmoid": nn.ReLU}'),
        "MLP ignores nonlin (always ReLU)", ("test_MLP_forward",), "the output matches relu"),
    Variant("MLP", _mlp(_SEQUENTIAL.replace("layers += [nn.Linear(a, b), act()]",
                                            "layers += [nn.Linear(a, b)]")),
        "MLP without any non-linearity", ("test_MLP_forward",), "no non-linearity"),
    Variant("MLP", _mlp(_SEQUENTIAL.replace("layers = [nn.Flatten()]", "layers = []")),
        "MLP does not flatten its input", ("test_MLP_forward",), "flatten the input"),
    Variant("MLP.forward", '''
def forward(self, X):
    return F.log_softmax(self.net(X.flatten()), dim=-1)
''', "MLP flattens the batch dimension away", ("test_MLP_forward",), "flatten"),
    Variant("MLP", _mlp('''        layers = [nn.Flatten()]
        for a, b in zip(dims[:-1], dims[1:]):
            layers += [nn.Linear(a, b), act()]
        self.net = nn.Sequential(*layers)'''),
        "MLP without the output layer", ("test_MLP_structure", "test_MLP_forward"), "output layer"),
    Variant("MLP", _mlp('''        self.net = nn.Sequential(nn.Flatten(), nn.Linear(d_in, hidden_dims[0]), act(),
                                 nn.Linear(hidden_dims[0], d_out))'''),
        "MLP uses only the first hidden size", ("test_MLP_structure", "test_MLP_forward"),
        "only the first hidden size"),
    Variant("MLP", _mlp(_SEQUENTIAL.replace("nn.Linear(a, b)", "nn.Linear(a, b, bias=False)")
                        .replace("nn.Linear(dims[-1], d_out)", "nn.Linear(dims[-1], d_out, bias=False)")),
        "MLP's layers have no bias", ("test_MLP_structure", "test_MLP_forward"), "no bias"),
    # ------------------------------------------------------------------ bugs: train_epoch
    Variant("train_epoch", _train_epoch(_LOOP.format(step='''        loss = loss_fn(model(X), y)
        loss.backward()
        optimizer.zero_grad()
        optimizer.step()''')), "train_epoch calls zero_grad between backward and step",
        ("test_train_epoch",), "must not come between backward and step"),
    Variant("train_epoch", _train_epoch(_LOOP.format(step='''        optimizer.zero_grad()
        loss = loss_fn(model(X), y)
        optimizer.step()
        loss.backward()''')), "train_epoch steps before backward", ("test_train_epoch",),
        "backward must come first"),
    Variant("train_epoch", _train_epoch(_LOOP.format(step='''        optimizer.zero_grad()
        loss = loss_fn(model(X), y)
        loss.backward()''')), "train_epoch never calls optimizer.step()", ("test_train_epoch",),
        "step() was never called"),
    Variant("train_epoch", _train_epoch(_LOOP.format(step=_STEP).replace("    model.train()\n", "")),
        "train_epoch does not call model.train()", ("test_train_epoch",), "model.train() is not called"),
    Variant("train_epoch", _train_epoch(_LOOP.format(step=_STEP).replace(
        "        X, y = X.to(device), y.to(device)\n", "")),
        "train_epoch does not move the batches to device", ("test_train_epoch",), "not moved to `device`"),
    Variant("train_epoch", _train_epoch(_LOOP.format(step=_STEP).replace(
        "X, y = X.to(device), y.to(device)", "X = X.to(device)")),
        "train_epoch moves X but not y", ("test_train_epoch",), "labels are not moved"),
    Variant("train_epoch", _train_epoch('''    model.train()
    losses = []
    for X, y in loader:
        X, y = X.to(device), y.to(device)
        optimizer.zero_grad()
        loss = loss_fn(model(X), y)
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    return sum(losses) / len(losses)
'''), "train_epoch averages the batch losses with equal weights", ("test_train_epoch",), "equal weights"),
    Variant("train_epoch", _train_epoch(_LOOP.format(step=_STEP).replace("return total / count", "return total")),
        "train_epoch returns the summed loss", ("test_train_epoch",), "summed over the samples"),
    Variant("train_epoch", _train_epoch(_LOOP.format(step=_STEP).replace("return total / count",
                                                                       "return total / len(loader)")),
        "train_epoch divides by the number of batches", ("test_train_epoch",), "number of batches"),
    Variant("train_epoch", _train_epoch(_LOOP.format(step=_STEP).replace("return total / count",
                                                                       "return loss.item()")),
        "train_epoch returns the last batch's loss", ("test_train_epoch",), "only the last batch"),
    Variant("train_epoch", _train_epoch(_LOOP.format(step=_STEP).replace("loss.item() * len(X)",
                                                                       "loss * len(X)")),
        "train_epoch adds up loss tensors", ("test_train_epoch",), "added up as tensors"),
    Variant("train_epoch", _train_epoch(_LOOP.format(step=_STEP.replace("loss_fn(model(X), y)",
                                                                       "F.nll_loss(model(X), y)"))),
        "train_epoch ignores loss_fn", ("test_train_epoch",), "loss_fn is not used"),
    Variant("train_epoch", _train_epoch('''    model.train()
    total, count = 0.0, 0
    with torch.no_grad():
        for X, y in loader:
            X, y = X.to(device), y.to(device)
            optimizer.zero_grad()
            loss = loss_fn(model(X), y)
            loss.backward()
            optimizer.step()
            total += loss.item() * len(X)
            count += len(X)
    return total / count
'''), "train_epoch runs under no_grad", ("test_train_epoch",), "no graph was recorded"),
    # ------------------------------------------------------------------ bugs: evaluate
    Variant("evaluate", _evaluate(_EVAL.replace("    model.eval()\n", "")),
        "evaluate without model.eval() (dropout stays on)", ("test_evaluate",), "model.eval() is not called"),
    Variant("evaluate", _evaluate('''    model.eval()
    total, correct, count = 0.0, 0, 0
    for X, y in loader:
        X, y = X.to(device), y.to(device)
        out = model(X)
        total += loss_fn(out, y).item() * len(X)
        correct += (out.argmax(dim=1) == y).sum().item()
        count += len(X)
    return total / count, correct / count
'''), "evaluate without torch.no_grad()", ("test_evaluate",), "builds a computation graph"),
    Variant("evaluate", _evaluate(_EVAL.replace("correct / count", "correct")),
        "evaluate returns the number of correct predictions", ("test_evaluate",),
        "number of correct predictions"),
    Variant("evaluate", _evaluate(_EVAL.replace("correct / count", "100 * correct / count")),
        "evaluate returns the accuracy in percent", ("test_evaluate",), "in percent"),
    Variant("evaluate", _evaluate('''    model.eval()
    losses, accuracies = [], []
    with torch.no_grad():
        for X, y in loader:
            X, y = X.to(device), y.to(device)
            out = model(X)
            losses.append(loss_fn(out, y).item())
            accuracies.append((out.argmax(dim=1) == y).float().mean().item())
    return sum(losses) / len(losses), sum(accuracies) / len(accuracies)
'''), "evaluate averages batch means with equal weights", ("test_evaluate",), "equal weights"),
    Variant("evaluate", _evaluate(_EVAL.replace("return total / count, correct / count",
                                                "return correct / count, total / count")),
        "evaluate returns (accuracy, loss)", ("test_evaluate",), "return (loss, accuracy)"),
    Variant("evaluate", _evaluate(_EVAL.replace("argmax(dim=1)", "argmax(dim=0)")),
        "evaluate takes the argmax over the batch", ("test_evaluate",), "argmax over dim=1"),
    Variant("evaluate", _evaluate(_EVAL.replace("            X, y = X.to(device), y.to(device)\n", "")),
        "evaluate does not move the batches to device", ("test_evaluate",), "not moved to `device`"),
    # ------------------------------------------------------------------ bugs: fit
    Variant("fit", _fit("model.state_dict()"), "fit keeps the best state by reference",
        ("test_fit",), "kept by reference"),
    Variant("fit", _fit("model.state_dict().copy()"), "fit keeps a shallow copy of the state dict",
        ("test_fit",), "kept by reference"),
    Variant("fit", _fit("{k: v.detach() for k, v in model.state_dict().items()}"),
        "fit keeps detached views (still the same tensors)", ("test_fit",), "kept by reference"),
    Variant("fit", _fit(_DEEPCOPY, better="True"), "fit keeps the last epoch's state",
        ("test_fit",), "after the last epoch"),
    Variant("fit", _fit(_DEEPCOPY, better="val_loss < best_loss"),
        "fit chooses the best epoch by validation loss", ("test_fit",), "lowest validation loss"),
    Variant("fit", _fit(_DEEPCOPY, better="val_acc > 1.0"), "fit never sets best_state",
        ("test_fit",), "never set"),
    Variant("fit", _fit(_DEEPCOPY, before=True), "fit validates before training each epoch",
        ("test_fit",), "before each epoch's training"),
    Variant("fit", _fit(_DEEPCOPY, loader="train_loader"), "fit validates on the training data",
        ("test_fit",), "evaluate on val_loader"),
    Variant("fit", _fit(_DEEPCOPY).replace("optimizer, device)", "optimizer, None)"),
        "fit does not pass its device on to train_epoch", ("test_fit",), "does not hand its `device`"),
    Variant("fit", _fit(_DEEPCOPY).replace('"val_loss": []', '"loss": []').replace(
        'history["val_loss"].append', 'history["loss"].append'),
        "fit's history lacks 'val_loss'", ("test_fit",), "has no key 'val_loss'"),
    # ------------------------------------------------------------------ bugs: checkpoints
    Variant("save_checkpoint", '''
def save_checkpoint(model, optimizer, path):
    torch.save(model.state_dict(), path)
''', "the checkpoint has no optimizer state", ("test_checkpoints",), "no optimizer state"),
    Variant("save_checkpoint", '''
def save_checkpoint(model, optimizer, path):
    torch.save({"model": model, "optimizer": optimizer.state_dict()}, path)
''', "the checkpoint pickles the whole model", ("test_checkpoints",), "pickles whole Python objects"),
    Variant("save_checkpoint", '''
def save_checkpoint(model, optimizer, path):
    torch.save({"model": model.state_dict(), "optimizer": optimizer}, path)
''', "the checkpoint pickles the optimizer object", ("test_checkpoints",), "pickles whole Python objects"),
    Variant("load_checkpoint", '''
def load_checkpoint(model, optimizer, path):
    checkpoint = torch.load(path, map_location=next(model.parameters()).device, weights_only=True)
    model.load_state_dict(checkpoint["model"])
''', "load_checkpoint does not restore the optimizer", ("test_checkpoints",),
        "optimizer's state is not restored"),
    Variant("load_checkpoint", '''
def load_checkpoint(model, optimizer, path):
    checkpoint = torch.load(path, map_location=next(model.parameters()).device, weights_only=True)
    model = copy.deepcopy(model)
    model.load_state_dict(checkpoint["model"])
    optimizer.load_state_dict(checkpoint["optimizer"])
    return model
''', "load_checkpoint loads into a copy of the model", ("test_checkpoints",), "not loaded into the model passed in"),
    Variant("load_checkpoint", '''
def load_checkpoint(model, optimizer, path):
    checkpoint = torch.load(path, weights_only=True)
    model.load_state_dict(checkpoint["model"])
    optimizer.load_state_dict(checkpoint["optimizer"])
''', "load_checkpoint without map_location", ("test_checkpoints",), "without map_location"),
    Variant("load_checkpoint", '''
def load_checkpoint(model, optimizer, path):
    checkpoint = torch.load(path, map_location=next(model.parameters()).device, weights_only=False)
    model.load_state_dict(checkpoint["model"])
    optimizer.load_state_dict(checkpoint["optimizer"])
''', "load_checkpoint with weights_only=False", ("test_checkpoints",), "unpickles arbitrary Python objects"),

    # ================================================================== correct alternatives
    Variant("MyLinear.forward", '''
def forward(self, X):
    return F.linear(X, self.W, self.b)
''', "MyLinear's forward with F.linear"),
    Variant("MyLinear", _mylinear('''
    def __init__(self, in_features, out_features):
        super().__init__()
        self.W = nn.Parameter(torch.empty(out_features, in_features))
        self.b = nn.Parameter(torch.empty(out_features))
        nn.init.kaiming_uniform_(self.W, a=5 ** 0.5)          # what nn.Linear does
        bound = 1 / in_features ** 0.5
        nn.init.uniform_(self.b, -bound, bound)
''', "        return torch.addmm(self.b, X, self.W.t())\n"),
        "MyLinear initialised like nn.Linear's reset_parameters, forward with addmm"),
    Variant("MyLinear", _mylinear('''
    def __init__(self, in_features, out_features):
        super().__init__()
        self.W = nn.Parameter(torch.randn(out_features, in_features) * (2 / in_features) ** 0.5)
        self.b = nn.Parameter(torch.zeros(out_features))
''', "        return torch.einsum('ni,oi->no', X, self.W) + self.b\n"),
        "MyLinear with He-normal weights, zero bias, einsum"),
    Variant("MLP", _mlp('''        self.hidden = nn.ModuleList(nn.Linear(a, b) for a, b in zip(dims[:-1], dims[1:]))
        self.output = nn.Linear(dims[-1], d_out)
        self.f = {"relu": torch.relu, "tanh": torch.tanh, "sigmoid": torch.sigmoid}[nonlin]''', '''        X = X.reshape(len(X), -1)
        for layer in self.hidden:
            X = self.f(layer(X))
        return F.log_softmax(self.output(X), dim=1)
'''), "MLP with an nn.ModuleList and functional activations"),
    Variant("MLP", _mlp('''        self.sizes = dims + [d_out]
        for i, (a, b) in enumerate(zip(self.sizes[:-1], self.sizes[1:])):
            setattr(self, f"fc{i}", MyLinear(a, b))
        self.act = act()''', '''        X = X.flatten(1)
        last = len(self.sizes) - 2
        for i in range(last + 1):
            X = getattr(self, f"fc{i}")(X)
            if i < last:
                X = self.act(X)
        return X - X.logsumexp(dim=1, keepdim=True)
'''), "MLP with one attribute per layer (MyLinear), log-softmax by logsumexp"),
    Variant("MLP", _mlp(_SEQUENTIAL.replace("self.net = nn.Sequential(*layers)",
                                            "self.net = nn.Sequential(*layers, nn.LogSoftmax(dim=1))"),
                        "        return self.net(X)\n"), "MLP with nn.LogSoftmax inside the Sequential"),
    Variant("train_epoch", _train_epoch('''    model.train()
    total, count = 0.0, 0
    for batch in loader:
        X, y = (t.to(device=device, non_blocking=True) for t in batch)
        loss = loss_fn(model(X), y)
        loss.backward()
        optimizer.step()
        optimizer.zero_grad(set_to_none=True)
        total += loss.item() * y.numel()
        count += y.numel()
    return total / count
'''), "train_epoch with zero_grad(set_to_none=True) after the step, non_blocking moves"),
    Variant("train_epoch", _train_epoch('''    model.train()
    summed, n = 0.0, 0
    for X, y in loader:
        X = X.to(device)
        y = y.to(device)
        model.zero_grad()
        log_probs = model(X)
        loss = loss_fn(log_probs, y)
        loss.backward()
        optimizer.step()
        summed += loss.item() * X.shape[0]
        n += X.shape[0]
    return summed / n
'''), "train_epoch with model.zero_grad()"),
    Variant("train_epoch", _train_epoch('''    model.train()
    per_sample = []
    for X, y in loader:
        X, y = X.to(device), y.to(device)
        optimizer.zero_grad()
        loss = loss_fn(model(X), y)
        loss.backward()
        optimizer.step()
        per_sample.append(loss.detach().expand(len(X)))     # the batch mean, once per sample
    return torch.cat(per_sample).mean()
'''), "train_epoch averaging per sample, returning a 0-dim tensor without grad"),
    Variant("evaluate", '''
@torch.no_grad()
def evaluate(model, loader, loss_fn, device):
    was_training = model.training
    model.eval()
    total, correct, count = torch.zeros(()), torch.zeros(()), 0
    for X, y in loader:
        X, y = X.to(device), y.to(device)
        out = model(X)
        total += loss_fn(out, y).cpu() * len(y)
        correct += (out.argmax(1) == y).sum().cpu()
        count += len(y)
    model.train(was_training)
    return (total / count).item(), (correct / count).item()
''', "evaluate as a @torch.no_grad() function with tensor sums, restoring the mode"),
    Variant("evaluate", _evaluate(_EVAL.replace("with torch.no_grad():", "with torch.inference_mode():")),
        "evaluate under torch.inference_mode()"),
    Variant("fit", _fit("{k: v.clone() for k, v in model.state_dict().items()}"),
        "fit copies the best state with clone()"),
    Variant("fit", '''
def fit(model, train_loader, val_loader, loss_fn, optimizer, epochs, device):
    history = {"train_loss": [], "val_loss": [], "val_acc": []}
    best_state = None
    for epoch in range(epochs):
        history["train_loss"].append(train_epoch(model, train_loader, loss_fn, optimizer, device))
        loss, acc = evaluate(model, val_loader, loss_fn, device)
        history["val_loss"].append(loss)
        history["val_acc"].append(acc)
        if acc == max(history["val_acc"]) and history["val_acc"].index(acc) == epoch:
            best_state = copy.deepcopy(model).state_dict()
    return history, best_state
''', "fit with a deep copy of the model, best epoch from the history"),
    Variant("load_checkpoint", '''
def save_checkpoint(model, optimizer, path):
    with open(path, "wb") as f:
        torch.save((model.state_dict(), optimizer.state_dict()), f)
''' + '''

def load_checkpoint(model, optimizer, path):
    model_state, optimizer_state = torch.load(path, map_location="cpu", weights_only=True)
    model.load_state_dict(model_state)
    optimizer.load_state_dict(optimizer_state)
''', "checkpoint as a tuple through a file object, loaded to the CPU first"),
    Variant("load_checkpoint", '''
def save_checkpoint(model, optimizer, path):
    torch.save({"epoch": 3, "model_state_dict": model.state_dict(),
                "optimizer_state_dict": optimizer.state_dict()}, path)
''' + '''

def load_checkpoint(model, optimizer, path):
    device = next(iter(model.state_dict().values())).device
    state = torch.load(path, map_location=device)
    model.load_state_dict(state["model_state_dict"])
    optimizer.load_state_dict(state["optimizer_state_dict"])
    return state["epoch"]
''', "checkpoint with other key names and an epoch, default weights_only"),
]
