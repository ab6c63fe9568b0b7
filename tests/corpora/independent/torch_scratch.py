"""Blind student submissions for notebook 03_torch_scratch.

Written only from the notebook's markdown/docstrings and the COURSE.md spec section, without
looking at the course's tests, solutions or check helpers.

ENTRIES: list of dicts
    name:        short id
    kind:        "correct" or "bug"
    functions:   {function_name: full source of the top-level def}
                 (correct: all ten functions; bug: only the one changed function)
    description: what is special about it
    base:        (bug entries only) name of the correct entry whose other nine functions complete it

AMBIGUOUS: same format, for submissions whose label depends on a reading of the spec that
could go either way (see the "ambiguity" key of each). They are NOT in ENTRIES.

The sources may use: torch, np, tqdm (tqdm.auto.tqdm), time, and each other.
"""
import ast
import textwrap

ASSIGNMENT = "03_torch_scratch"

FUNCTION_NAMES = ["init_params", "relu", "net", "softmax", "cross_entropy", "sgd",
                  "accuracy", "evaluate_accuracy", "train_epoch", "train"]


def _split(source):
    """{name: source of the top-level def, decorators included} for a block of defs."""
    source = textwrap.dedent(source).strip("\n") + "\n"
    lines = source.splitlines(keepends=True)
    tree = ast.parse(source)
    out = {}
    for node in tree.body:
        if not isinstance(node, ast.FunctionDef):
            raise ValueError(f"only top-level defs allowed, got {ast.dump(node)[:60]}")
        start = min([node.lineno] + [d.lineno for d in node.decorator_list])
        out[node.name] = "".join(lines[start - 1:node.end_lineno])
    return out


# ----------------------------------------------------------------------------------------------
# Correct students (complete sets)
# ----------------------------------------------------------------------------------------------

S01 = '''
def init_params(num_inputs, num_hiddens, num_outputs, device=None):
    W1 = (torch.randn(num_inputs, num_hiddens, device=device) * 0.01).requires_grad_()
    b1 = torch.zeros(num_hiddens, device=device, requires_grad=True)
    W2 = (torch.randn(num_hiddens, num_outputs, device=device) * 0.01).requires_grad_()
    b2 = torch.zeros(num_outputs, device=device, requires_grad=True)
    return [W1, b1, W2, b2]

def relu(X):
    a = torch.zeros_like(X)
    return torch.max(X, a)

def net(X, params):
    W1, b1, W2, b2 = params
    X = X.reshape((-1, W1.shape[0]))
    H = relu(X @ W1 + b1)
    return H @ W2 + b2

def softmax(O):
    O_exp = torch.exp(O - O.max(dim=1, keepdim=True).values)
    partition = O_exp.sum(1, keepdim=True)
    return O_exp / partition

def cross_entropy(y_hat, y):
    return -torch.log(y_hat[range(len(y_hat)), y]).mean()

def sgd(params, lr):
    with torch.no_grad():
        for param in params:
            param -= lr * param.grad
            param.grad.zero_()

def accuracy(y_hat, y):
    if len(y_hat.shape) > 1 and y_hat.shape[1] > 1:
        y_hat = y_hat.argmax(axis=1)
    cmp = y_hat.type(y.dtype) == y
    return float(cmp.type(y.dtype).sum())

def evaluate_accuracy(net_fn, data_iter):
    correct, total = 0.0, 0
    with torch.no_grad():
        for X, y in data_iter:
            correct += accuracy(net_fn(X), y)
            total += y.numel()
    return correct / total

def train_epoch(net_fn, train_iter, loss_fn, updater):
    metric = [0.0, 0.0, 0]          # loss sum, correct, samples
    for X, y in train_iter:
        y_hat = net_fn(X)
        l = loss_fn(y_hat, y)
        l.backward()
        updater()
        metric[0] += float(l) * len(y)
        metric[1] += accuracy(y_hat, y)
        metric[2] += y.numel()
    return metric[0] / metric[2], metric[1] / metric[2]

def train(net_fn, train_iter, test_iter, loss_fn, num_epochs, updater):
    history = {"train_loss": [], "train_acc": [], "test_acc": []}
    for epoch in tqdm(range(num_epochs)):
        train_loss, train_acc = train_epoch(net_fn, train_iter, loss_fn, updater)
        test_acc = evaluate_accuracy(net_fn, test_iter)
        history["train_loss"].append(train_loss)
        history["train_acc"].append(train_acc)
        history["test_acc"].append(test_acc)
    return history
'''

S02 = '''
def init_params(num_inputs, num_hiddens, num_outputs, device=None):
    W1 = torch.normal(0.0, 0.01, size=(num_inputs, num_hiddens), device=device, requires_grad=True)
    b1 = torch.zeros(num_hiddens, device=device).requires_grad_()
    W2 = torch.normal(0.0, 0.01, size=(num_hiddens, num_outputs), device=device, requires_grad=True)
    b2 = torch.zeros(num_outputs, device=device).requires_grad_()
    return [W1, b1, W2, b2]

def relu(X):
    return X * (X > 0)

def net(X, params):
    W1, b1, W2, b2 = params
    X = X.flatten(start_dim=1)
    return relu(X @ W1 + b1) @ W2 + b2

def softmax(O):
    e = torch.exp(O - O.amax(dim=-1, keepdim=True))
    return e / e.sum(dim=-1, keepdim=True)

def cross_entropy(y_hat, y):
    picked = y_hat.gather(1, y.reshape(-1, 1))     # (n, 1)
    return -torch.log(picked).mean()

def sgd(params, lr):
    with torch.no_grad():
        for p in params:
            p.sub_(lr * p.grad)
            p.grad = None

def accuracy(y_hat, y):
    return (y_hat.argmax(dim=1) == y).sum().item()

@torch.no_grad()
def evaluate_accuracy(net_fn, data_iter):
    right, seen = 0, 0
    for X, y in data_iter:
        right += accuracy(net_fn(X), y)
        seen += X.shape[0]
    return right / seen

def train_epoch(net_fn, train_iter, loss_fn, updater):
    loss_sum, right, seen = 0.0, 0, 0
    for X, y in train_iter:
        scores = net_fn(X)
        loss = loss_fn(scores, y)
        loss.backward()
        updater()
        loss_sum += loss.item() * X.shape[0]
        right += accuracy(scores, y)
        seen += X.shape[0]
    return loss_sum / seen, right / seen

def train(net_fn, train_iter, test_iter, loss_fn, num_epochs, updater):
    from tqdm.auto import trange
    history = {"train_loss": [], "train_acc": [], "test_acc": []}
    for _ in trange(num_epochs, desc="epoch"):
        loss, acc = train_epoch(net_fn, train_iter, loss_fn, updater)
        history["train_loss"].append(loss)
        history["train_acc"].append(acc)
        history["test_acc"].append(evaluate_accuracy(net_fn, test_iter))
    return history
'''

S03 = '''
def init_params(num_inputs, num_hiddens, num_outputs, device=None):
    W1 = torch.empty(num_inputs, num_hiddens, device=device).normal_(0, 0.01).requires_grad_(True)
    b1 = torch.zeros(num_hiddens, device=device).requires_grad_(True)
    W2 = torch.empty(num_hiddens, num_outputs, device=device).normal_(0, 0.01).requires_grad_(True)
    b2 = torch.zeros(num_outputs, device=device).requires_grad_(True)
    return [W1, b1, W2, b2]

def relu(X):
    return (X + X.abs()) / 2

def net(X, params):
    W1, b1, W2, b2 = params
    n = X.shape[0]
    H = relu(X.reshape(n, -1) @ W1 + b1)
    return H @ W2 + b2

def softmax(O):
    # exp(O - logsumexp(O)) is the same thing, and never overflows
    return torch.exp(O - torch.logsumexp(O, dim=1, keepdim=True))

def cross_entropy(y_hat, y):
    one_hot = torch.nn.functional.one_hot(y, num_classes=y_hat.shape[1])
    p_true = (y_hat * one_hot).sum(dim=1)       # select first, then log
    return -p_true.log().mean()

def sgd(params, lr):
    with torch.no_grad():
        for p in params:
            p.add_(p.grad, alpha=-lr)
            p.grad.zero_()

def accuracy(y_hat, y):
    pred = y_hat.max(dim=1).indices
    return int((pred == y).sum())

def evaluate_accuracy(net_fn, data_iter):
    n_correct = 0
    n_total = 0
    with torch.no_grad():
        for X, y in data_iter:
            pred = net_fn(X).argmax(dim=1)
            n_correct += int((pred == y).sum())
            n_total += len(y)
    return n_correct / n_total

def train_epoch(net_fn, train_iter, loss_fn, updater):
    losses, sizes, corrects = [], [], []
    for X, y in train_iter:
        out = net_fn(X)
        l = loss_fn(out, y)
        l.backward()
        updater()
        losses.append(l.item())
        sizes.append(len(y))
        corrects.append(accuracy(out, y))
    total = sum(sizes)
    mean_loss = sum(l * s for l, s in zip(losses, sizes)) / total
    return mean_loss, sum(corrects) / total

def train(net_fn, train_iter, test_iter, loss_fn, num_epochs, updater):
    history = {"train_loss": [], "train_acc": [], "test_acc": []}
    bar = tqdm(total=num_epochs, desc="training")
    for epoch in range(num_epochs):
        tl, ta = train_epoch(net_fn, train_iter, loss_fn, updater)
        va = evaluate_accuracy(net_fn, test_iter)
        history["train_loss"].append(tl)
        history["train_acc"].append(ta)
        history["test_acc"].append(va)
        bar.set_postfix(loss=f"{tl:.3f}", test_acc=f"{va:.3f}")
        bar.update(1)
    bar.close()
    return history
'''

S04 = '''
def init_params(num_inputs, num_hiddens, num_outputs, device=None):
    W1 = torch.randn(num_inputs, num_hiddens, dtype=torch.float32, device=device).mul_(0.01).requires_grad_()
    b1 = torch.zeros(num_hiddens, dtype=torch.float32, device=device, requires_grad=True)
    W2 = torch.randn(num_hiddens, num_outputs, dtype=torch.float32, device=device).mul_(0.01).requires_grad_()
    b2 = torch.zeros(num_outputs, dtype=torch.float32, device=device, requires_grad=True)
    return [W1, b1, W2, b2]

def relu(X):
    return torch.where(X > 0, X, torch.zeros_like(X))

def net(X, params):
    W1, b1, W2, b2 = params
    num_inputs = W1.shape[0]
    X = X.reshape(-1, num_inputs)
    H = relu(torch.matmul(X, W1) + b1)
    return torch.matmul(H, W2) + b2

def softmax(O):
    shifted = O - O.max(1)[0].unsqueeze(1)
    e = shifted.exp()
    return e / e.sum(1).unsqueeze(1)

def cross_entropy(y_hat, y):
    n = y_hat.shape[0]
    p = y_hat[torch.arange(n, device=y_hat.device), y]
    return -(p.log().sum() / n)

def sgd(params, lr):
    with torch.no_grad():
        for p in params:
            p.copy_(p - lr * p.grad)
            p.grad = None

def accuracy(y_hat, y):
    return torch.argmax(y_hat, dim=1).eq(y).sum().item()

def evaluate_accuracy(net_fn, data_iter):
    hits, count = 0, 0
    with torch.inference_mode():
        for X, y in data_iter:
            hits += accuracy(net_fn(X), y)
            count += y.shape[0]
    return hits / count

def train_epoch(net_fn, train_iter, loss_fn, updater):
    total_loss = 0.0
    total_hits = 0
    total_n = 0
    for i, (X, y) in enumerate(train_iter):
        scores = net_fn(X)
        loss = loss_fn(scores, y)
        loss.backward()
        updater()
        b = y.shape[0]
        total_loss += loss.item() * b
        total_hits += accuracy(scores, y)
        total_n += b
    return total_loss / total_n, total_hits / total_n

def train(net_fn, train_iter, test_iter, loss_fn, num_epochs, updater):
    history = {"train_loss": [], "train_acc": [], "test_acc": []}
    pbar = tqdm(range(num_epochs), desc="epochs", unit="epoch")
    for epoch in pbar:
        loss, acc = train_epoch(net_fn, train_iter, loss_fn, updater)
        test_acc = evaluate_accuracy(net_fn, test_iter)
        for key, value in zip(("train_loss", "train_acc", "test_acc"), (loss, acc, test_acc)):
            history[key].append(value)
        pbar.set_postfix(loss=loss, train_acc=acc, test_acc=test_acc)
    return history
'''

S05 = '''
def init_params(num_inputs, num_hiddens, num_outputs, device=None):
    W1 = torch.normal(mean=torch.zeros(num_inputs, num_hiddens, device=device), std=0.01).requires_grad_()
    b1 = torch.zeros(num_hiddens, device=device).requires_grad_()
    W2 = torch.normal(mean=torch.zeros(num_hiddens, num_outputs, device=device), std=0.01).requires_grad_()
    b2 = torch.zeros(num_outputs, device=device).requires_grad_()
    return [W1, b1, W2, b2]

def relu(X):
    return torch.maximum(X, torch.tensor(0.0, dtype=X.dtype, device=X.device))

def net(X, params):
    W1, b1, W2, b2 = params
    X = X.reshape(X.shape[0], -1)
    H = relu(X @ W1 + b1)
    O = H @ W2 + b2
    return O

def softmax(O):
    m, _ = torch.max(O, dim=1, keepdim=True)
    E = torch.exp(O - m)
    return E / torch.sum(E, dim=1, keepdim=True)

def cross_entropy(y_hat, y):
    return -torch.mean(torch.log(y_hat[torch.arange(len(y)), y]))

def sgd(params, lr):
    with torch.no_grad():
        for i in range(len(params)):
            params[i].data -= lr * params[i].grad.data
            params[i].grad.data.zero_()

def accuracy(y_hat, y):
    return float((y_hat.argmax(dim=1) == y).float().sum())

def evaluate_accuracy(net_fn, data_iter):
    correct, n = 0.0, 0
    with torch.set_grad_enabled(False):
        for X, y in data_iter:
            correct += accuracy(net_fn(X), y)
            n += len(y)
    return correct / n

def train_epoch(net_fn, train_iter, loss_fn, updater):
    loss_sum = None
    correct, n = 0.0, 0
    for X, y in train_iter:
        y_hat = net_fn(X)
        loss = loss_fn(y_hat, y)
        loss.backward()
        updater()
        batch_loss = loss.detach() * len(y)
        loss_sum = batch_loss if loss_sum is None else loss_sum + batch_loss
        correct += accuracy(y_hat, y)
        n += len(y)
    return float(loss_sum) / n, correct / n

def train(net_fn, train_iter, test_iter, loss_fn, num_epochs, updater):
    train_losses, train_accs, test_accs = [], [], []
    for epoch in tqdm(range(num_epochs), desc="training", unit="epoch"):
        l, a = train_epoch(net_fn, train_iter, loss_fn, updater)
        train_losses.append(l)
        train_accs.append(a)
        test_accs.append(evaluate_accuracy(net_fn, test_iter))
    return {"train_loss": train_losses, "train_acc": train_accs, "test_acc": test_accs}
'''

S06 = '''
def init_params(num_inputs, num_hiddens, num_outputs, device=None):
    W1 = torch.nn.Parameter(torch.randn(num_inputs, num_hiddens, device=device) * 0.01)
    b1 = torch.nn.Parameter(torch.zeros(num_hiddens, device=device))
    W2 = torch.nn.Parameter(torch.randn(num_hiddens, num_outputs, device=device) * 0.01)
    b2 = torch.nn.Parameter(torch.zeros(num_outputs, device=device))
    return [W1, b1, W2, b2]

def relu(X):
    return X.masked_fill(X < 0, 0.0)

def net(X, params):
    W1, b1, W2, b2 = params
    H = relu(torch.flatten(X, 1) @ W1 + b1)
    return H @ W2 + b2

def softmax(O):
    O = O - O.detach().max(dim=-1, keepdim=True).values
    expO = O.exp()
    return expO / expO.sum(dim=-1, keepdim=True)

def cross_entropy(y_hat, y):
    return -y_hat.gather(dim=1, index=y.unsqueeze(-1)).squeeze(-1).log().mean()

def sgd(params, lr):
    with torch.no_grad():
        for p in params:
            p[...] = p - lr * p.grad
            p.grad.zero_()

def accuracy(y_hat, y):
    return (y_hat.argmax(-1) == y.to(torch.long)).sum().item()

@torch.no_grad
def evaluate_accuracy(net_fn, data_iter):
    good = total = 0
    for X, y in data_iter:
        good += accuracy(net_fn(X), y)
        total += len(X)
    return good / total

def train_epoch(net_fn, train_iter, loss_fn, updater):
    sum_loss, sum_acc, num = 0.0, 0.0, 0
    for batch in train_iter:
        X, y = batch
        scores = net_fn(X)
        loss = loss_fn(scores, y)
        loss.backward()
        updater()
        with torch.no_grad():
            sum_loss += loss.item() * len(X)
            sum_acc += accuracy(scores, y)
            num += len(X)
    return sum_loss / num, sum_acc / num

def train(net_fn, train_iter, test_iter, loss_fn, num_epochs, updater):
    history = {key: [] for key in ("train_loss", "train_acc", "test_acc")}
    for epoch in tqdm(range(1, num_epochs + 1), desc="Epochs"):
        train_loss, train_acc = train_epoch(net_fn, train_iter, loss_fn, updater)
        history["train_loss"].append(train_loss)
        history["train_acc"].append(train_acc)
        history["test_acc"].append(evaluate_accuracy(net_fn, test_iter))
    return history
'''

S07 = '''
def init_params(num_inputs, num_hiddens, num_outputs, device=None):
    params = []
    for fan_in, fan_out in [(num_inputs, num_hiddens), (num_hiddens, num_outputs)]:
        W = torch.randn(fan_in, fan_out, dtype=torch.float32, device=device) * 0.01
        W.requires_grad_(True)
        b = torch.zeros(fan_out, dtype=torch.float32, device=device)
        b.requires_grad_(True)
        params += [W, b]
    return params

def relu(X):
    return X.where(X > 0, torch.zeros((), dtype=X.dtype, device=X.device))

def net(X, params):
    W1, b1, W2, b2 = params
    X_flat = X.reshape(len(X), W1.shape[0])
    hidden = relu(X_flat @ W1 + b1)
    return hidden @ W2 + b2

def softmax(O):
    exps = (O - O.max(dim=1, keepdim=True)[0]).exp()
    return torch.div(exps, exps.sum(-1, keepdim=True))

def cross_entropy(y_hat, y):
    idx = torch.arange(y_hat.shape[0], device=y_hat.device)
    losses = -torch.log(y_hat[idx, y])
    return losses.sum() / y.shape[0]

def sgd(params, lr):
    for p in params:
        with torch.no_grad():
            p -= p.grad * lr
        p.grad = None

def accuracy(y_hat, y):
    return (y_hat.argmax(dim=1) == y).double().sum().item()

def evaluate_accuracy(net_fn, data_iter):
    n_right = 0.0
    n_all = 0
    with torch.no_grad():
        for X, y in data_iter:
            n_right += accuracy(net_fn(X), y)
            n_all += y.shape[0]
    return n_right / n_all

def train_epoch(net_fn, train_iter, loss_fn, updater):
    sum_loss = 0.0
    sum_right = 0.0
    count = 0
    for X, y in train_iter:
        y_hat = net_fn(X)
        loss = loss_fn(y_hat, y)
        loss.backward()
        updater()
        sum_loss += loss.item() * y.shape[0]
        sum_right += accuracy(y_hat, y)
        count += y.shape[0]
    return sum_loss / count, sum_right / count

def train(net_fn, train_iter, test_iter, loss_fn, num_epochs, updater):
    history = dict(train_loss=[], train_acc=[], test_acc=[])
    for epoch in tqdm(range(num_epochs)):
        loss, acc = train_epoch(net_fn, train_iter, loss_fn, updater)
        history["train_loss"].append(loss)
        history["train_acc"].append(acc)
        history["test_acc"].append(evaluate_accuracy(net_fn, test_iter))
        tqdm.write(f"epoch {epoch + 1}: loss {loss:.4f}, train acc {acc:.3f}")
    return history
'''

S08 = '''
def init_params(num_inputs, num_hiddens, num_outputs, device=None):
    shapes = [(num_inputs, num_hiddens), (num_hiddens,), (num_hiddens, num_outputs), (num_outputs,)]
    params = []
    for shape in shapes:
        if len(shape) == 2:
            params.append(torch.randn(*shape, device=device).mul(0.01).requires_grad_())
        else:
            params.append(torch.zeros(*shape, device=device).requires_grad_())
    return params

def relu(X):
    return torch.maximum(X, X.new_zeros(()))

def net(X, params):
    W1, b1, W2, b2 = params
    H = relu(X.reshape(-1, W1.shape[0]).matmul(W1).add(b1))
    return H.matmul(W2).add(b2)

def softmax(O):
    z = O - O.max(-1, keepdim=True).values
    ez = z.exp()
    return ez / ez.sum(-1, keepdim=True)

def cross_entropy(y_hat, y):
    return -y_hat[torch.arange(y.numel()), y].log().mean()

def sgd(params, lr):
    with torch.no_grad():
        for p in params:
            p.sub_(p.grad, alpha=lr)
    for p in params:
        p.grad = None

def accuracy(y_hat, y):
    return int(y_hat.argmax(1).eq(y).sum())

def evaluate_accuracy(net_fn, data_iter):
    with torch.no_grad():
        counts = [(accuracy(net_fn(X), y), len(y)) for X, y in data_iter]
    return sum(c for c, _ in counts) / sum(n for _, n in counts)

def train_epoch(net_fn, train_iter, loss_fn, updater):
    stats = []
    for X, y in train_iter:
        scores = net_fn(X)
        l = loss_fn(scores, y)
        l.backward()
        updater()
        stats.append((l.item() * len(y), accuracy(scores, y), len(y)))
    totals = np.array(stats, dtype=np.float64).sum(axis=0)
    return float(totals[0] / totals[2]), float(totals[1] / totals[2])

def train(net_fn, train_iter, test_iter, loss_fn, num_epochs, updater):
    history = {"train_loss": [], "train_acc": [], "test_acc": []}
    epochs = tqdm(range(num_epochs))
    for epoch in epochs:
        epochs.set_description(f"epoch {epoch + 1}/{num_epochs}")
        tl, ta = train_epoch(net_fn, train_iter, loss_fn, updater)
        history["train_loss"].append(tl)
        history["train_acc"].append(ta)
        history["test_acc"].append(evaluate_accuracy(net_fn, test_iter))
    return history
'''

S09 = '''
def init_params(num_inputs, num_hiddens, num_outputs, device=None):
    W1 = torch.randn(num_inputs, num_hiddens, dtype=torch.float32, device=device) * 0.01
    W1.requires_grad = True
    b1 = torch.zeros(num_hiddens, dtype=torch.float32, device=device)
    b1.requires_grad = True
    W2 = torch.randn(num_hiddens, num_outputs, dtype=torch.float32, device=device) * 0.01
    W2.requires_grad = True
    b2 = torch.zeros(num_outputs, dtype=torch.float32, device=device)
    b2.requires_grad = True
    params = [W1, b1, W2, b2]
    return params

def relu(X):
    zeros = torch.zeros(X.shape, dtype=X.dtype, device=X.device)
    return torch.maximum(X, zeros)

def net(X, params):
    W1 = params[0]
    b1 = params[1]
    W2 = params[2]
    b2 = params[3]
    n = X.shape[0]
    num_inputs = W1.shape[0]
    X_flat = X.reshape(n, num_inputs)
    hidden = relu(X_flat @ W1 + b1)
    output = hidden @ W2 + b2
    return output

def softmax(O):
    row_max = torch.max(O, dim=1, keepdim=True).values
    exps = torch.exp(O - row_max)
    sums = torch.sum(exps, dim=1, keepdim=True)
    probs = exps / sums
    return probs

def cross_entropy(y_hat, y):
    n = y_hat.shape[0]
    rows = torch.arange(n, device=y.device)
    correct_class_probs = y_hat[rows, y]
    log_probs = torch.log(correct_class_probs)
    loss = -torch.mean(log_probs)
    return loss

def sgd(params, lr):
    with torch.no_grad():
        for i in range(len(params)):
            params[i] -= lr * params[i].grad
    for i in range(len(params)):
        params[i].grad.zero_()

def accuracy(y_hat, y):
    predictions = y_hat.argmax(dim=1)
    correct = (predictions == y).sum().item()
    return correct

def evaluate_accuracy(net_fn, data_iter):
    n_correct = 0
    n_total = 0
    with torch.no_grad():
        for X, y in data_iter:
            scores = net_fn(X)
            n_correct = n_correct + accuracy(scores, y)
            n_total = n_total + len(X)
    accuracy_value = n_correct / n_total
    return accuracy_value

def train_epoch(net_fn, train_iter, loss_fn, updater):
    total_loss = 0.0
    total_correct = 0
    total_samples = 0
    for X, y in train_iter:
        scores = net_fn(X)
        loss = loss_fn(scores, y)
        loss.backward()
        updater()
        batch_size = len(y)
        total_loss = total_loss + loss.item() * batch_size
        total_correct = total_correct + accuracy(scores, y)
        total_samples = total_samples + batch_size
    mean_loss = total_loss / total_samples
    train_accuracy = total_correct / total_samples
    return mean_loss, train_accuracy

def train(net_fn, train_iter, test_iter, loss_fn, num_epochs, updater):
    history = {}
    history["train_loss"] = []
    history["train_acc"] = []
    history["test_acc"] = []
    progress = tqdm(range(num_epochs))
    for epoch in progress:
        train_loss, train_acc = train_epoch(net_fn, train_iter, loss_fn, updater)
        test_acc = evaluate_accuracy(net_fn, test_iter)
        history["train_loss"].append(train_loss)
        history["train_acc"].append(train_acc)
        history["test_acc"].append(test_acc)
        progress.set_postfix(loss=train_loss, acc=train_acc, test=test_acc)
    return history
'''

S10 = '''
def init_params(num_inputs, num_hiddens, num_outputs, device=None):
    W1 = (torch.randn(num_inputs, num_hiddens) * 0.01).to(device).requires_grad_()
    b1 = torch.zeros(num_hiddens).to(device).requires_grad_()
    W2 = (torch.randn(num_hiddens, num_outputs) * 0.01).to(device).requires_grad_()
    b2 = torch.zeros(num_outputs).to(device).requires_grad_()
    return [W1, b1, W2, b2]

def relu(X):
    out = X.clone()
    out.masked_fill_(X < 0, 0)
    return out

def net(X, params):
    W1, b1, W2, b2 = params
    X = X.reshape(-1, W1.shape[0]).to(W1.dtype)
    return relu(X @ W1 + b1) @ W2 + b2

def softmax(O):
    O = O - O.max(dim=1, keepdim=True).values     # a new tensor: the caller's O is untouched
    O = O.exp()
    return O / O.sum(dim=1, keepdim=True)

def cross_entropy(y_hat, y):
    probs = y_hat.gather(1, y.long().unsqueeze(1)).squeeze(1)
    return -(probs.log()).mean()

def sgd(params, lr):
    with torch.no_grad():
        for p in params:
            if p.grad is None:
                continue
            p -= lr * p.grad
            p.grad.zero_()

def accuracy(y_hat, y):
    pred = y_hat.max(1)[1]
    return (pred == y).float().sum().item()

def evaluate_accuracy(net_fn, data_iter):
    correct = 0.0
    total = 0
    for X, y in data_iter:
        with torch.no_grad():
            scores = net_fn(X)
        correct += accuracy(scores, y)
        total += len(y)
    return correct / total

def train_epoch(net_fn, train_iter, loss_fn, updater):
    n, loss_total, correct = 0, 0.0, 0.0
    for X, y in train_iter:
        scores = net_fn(X)
        loss = loss_fn(scores, y)
        loss.backward()
        updater()
        n += len(y)
        loss_total += len(y) * loss.item()
        correct += accuracy(scores.detach(), y)
    return loss_total / n, correct / n

def train(net_fn, train_iter, test_iter, loss_fn, num_epochs, updater):
    from tqdm.auto import trange
    history = {"train_loss": [], "train_acc": [], "test_acc": []}
    for epoch in (bar := trange(num_epochs)):
        train_loss, train_acc = train_epoch(net_fn, train_iter, loss_fn, updater)
        test_acc = evaluate_accuracy(net_fn, test_iter)
        history["train_loss"].append(train_loss)
        history["train_acc"].append(train_acc)
        history["test_acc"].append(test_acc)
        bar.set_postfix_str(f"loss {train_loss:.3f} | test {test_acc:.3f}")
    return history
'''

S11 = '''
def init_params(num_inputs, num_hiddens, num_outputs, device=None):
    def weight(rows, cols):
        return (0.01 * torch.randn(rows, cols, device=device)).requires_grad_()

    def bias(size):
        return torch.zeros(size, device=device, requires_grad=True)

    return [weight(num_inputs, num_hiddens), bias(num_hiddens), weight(num_hiddens, num_outputs), bias(num_outputs)]

def relu(X):
    return (X > 0).to(X.dtype) * X

def net(X, params):
    W1, b1, W2, b2 = params
    X = X.reshape(X.shape[0], W1.shape[0])
    H = relu(torch.addmm(b1, X, W1))
    return torch.addmm(b2, H, W2)

def softmax(O):
    ex = torch.exp(O - torch.amax(O, dim=1, keepdim=True))
    return ex / torch.sum(ex, dim=1, keepdim=True)

def cross_entropy(y_hat, y):
    mask = torch.zeros_like(y_hat)
    mask[torch.arange(len(y), device=y.device), y] = 1.0
    return -torch.log((y_hat * mask).sum(dim=1)).mean()

def sgd(params, lr):
    with torch.no_grad():
        for p in params:
            p.sub_(lr * p.grad)
    for p in params:
        p.grad.zero_()

def accuracy(y_hat, y):
    return torch.sum(torch.argmax(y_hat, dim=1) == y).item()

def evaluate_accuracy(net_fn, data_iter):
    total_correct, total = 0, 0
    with torch.no_grad():
        for batch_X, batch_y in data_iter:
            total_correct += accuracy(net_fn(batch_X), batch_y)
            total += batch_y.size(0)
    return total_correct / total

def train_epoch(net_fn, train_iter, loss_fn, updater):
    weighted_loss, correct, seen = 0.0, 0, 0
    for X, y in train_iter:
        scores = net_fn(X)
        loss = loss_fn(scores, y)
        loss.sum().backward()
        updater()
        weighted_loss += float(loss) * y.size(0)
        correct += accuracy(scores, y)
        seen += y.size(0)
    return weighted_loss / seen, correct / seen

def train(net_fn, train_iter, test_iter, loss_fn, num_epochs, updater):
    history = {"train_loss": [], "train_acc": [], "test_acc": []}
    with tqdm(total=num_epochs, unit="epoch") as bar:
        for _ in range(num_epochs):
            train_loss, train_acc = train_epoch(net_fn, train_iter, loss_fn, updater)
            test_acc = evaluate_accuracy(net_fn, test_iter)
            history["train_loss"].append(train_loss)
            history["train_acc"].append(train_acc)
            history["test_acc"].append(test_acc)
            bar.update()
    return history
'''

S12 = '''
def init_params(num_inputs, num_hiddens, num_outputs, device=None):
    g = dict(device=device, dtype=torch.float32)
    W1 = torch.randn(num_inputs, num_hiddens, **g)
    W2 = torch.randn(num_hiddens, num_outputs, **g)
    W1 *= 0.01
    W2 *= 0.01
    b1 = torch.zeros(num_hiddens, **g)
    b2 = torch.zeros(num_outputs, **g)
    for t in (W1, b1, W2, b2):
        t.requires_grad_()
    return [W1, b1, W2, b2]

def relu(X):
    positive = X > 0
    return X * positive.type_as(X)

def net(X, params):
    W1, b1, W2, b2 = params
    d = W1.shape[0]
    flat = X.contiguous().view(-1, d)
    return relu(flat @ W1 + b1) @ W2 + b2

def softmax(O):
    c = O.max(dim=-1, keepdim=True).values
    log_z = c + torch.log(torch.exp(O - c).sum(dim=-1, keepdim=True))
    return torch.exp(O - log_z)

def cross_entropy(y_hat, y):
    n = len(y)
    true_probs = y_hat[torch.arange(n, device=y_hat.device), y]
    return torch.log(true_probs).mean().neg()

def sgd(params, lr):
    with torch.no_grad():
        for p in params:
            p.data.add_(p.grad, alpha=-lr)
            p.grad.zero_()

def accuracy(y_hat, y):
    _, predicted = torch.max(y_hat, 1)
    return (predicted == y).sum().item()

def evaluate_accuracy(net_fn, data_iter):
    previous = torch.is_grad_enabled()
    torch.set_grad_enabled(False)
    try:
        correct = total = 0
        for X, y in data_iter:
            correct += accuracy(net_fn(X), y)
            total += y.numel()
    finally:
        torch.set_grad_enabled(previous)
    return correct / total

def train_epoch(net_fn, train_iter, loss_fn, updater):
    loss_sum = 0.0
    correct = 0
    n = 0
    for X, y in train_iter:
        logits = net_fn(X)
        batch_loss = loss_fn(logits, y)
        batch_loss.backward()
        updater()
        loss_sum += batch_loss.item() * len(X)
        correct += accuracy(logits, y)
        n += len(X)
    return loss_sum / n, correct / n

def train(net_fn, train_iter, test_iter, loss_fn, num_epochs, updater):
    start = time.time()
    history = {"train_loss": [], "train_acc": [], "test_acc": []}
    for epoch in tqdm(range(num_epochs), desc="train"):
        loss, acc = train_epoch(net_fn, train_iter, loss_fn, updater)
        history["train_loss"].append(loss)
        history["train_acc"].append(acc)
        history["test_acc"].append(evaluate_accuracy(net_fn, test_iter))
    print(f"{num_epochs} epochs in {time.time() - start:.1f} s")
    return history
'''

_CORRECT = [
    ("s01_d2l_classic", S01, "d2l-style: randn*0.01 then requires_grad_(), torch.max(X, zeros_like) relu, "
     "reshape((-1, W1.shape[0])), max/keepdim softmax, y_hat[range(n), y], `param -= ...` + grad.zero_(), "
     "accuracy returns float via .type(y.dtype).sum(), list-based metric accumulator, tqdm(range)."),
    ("s02_mask_gather", S02, "torch.normal(0, 0.01, size, requires_grad=True), relu X*(X>0), flatten(start_dim=1), "
     "softmax with amax over dim=-1, gather-based CE, p.sub_ + grad=None, .item() int accuracy, "
     "@torch.no_grad() decorated evaluate, trange imported inside train."),
    ("s03_logsumexp_onehot", S03, "empty().normal_(0, .01), relu (X+|X|)/2, reshape(n, -1), softmax as "
     "exp(O - logsumexp(O)), one-hot select-then-log CE, p.add_(grad, alpha=-lr), accuracy via "
     "max(dim=1).indices returning int, evaluate inline without calling accuracy, per-batch lists "
     "weighted at the end, manual tqdm(total=...) bar with update()/close()."),
    ("s04_where_inference", S04, "explicit dtype=float32, randn().mul_(0.01), relu via torch.where, "
     "softmax with max(1)[0].unsqueeze(1) (no keepdim), CE with arange on y_hat.device and sum()/n, "
     "p.copy_(p - lr*g) + grad=None, evaluate under torch.inference_mode(), enumerate loop, tqdm bar "
     "with set_postfix."),
    ("s05_tensor_mean_normal", S05, "torch.normal(mean=zeros tensor, std=0.01), relu torch.maximum with a "
     "0-dim tensor of X's dtype/device, softmax with tuple-unpacked torch.max(keepdim), CE with CPU "
     "torch.arange indexing, p.data -= ... inside no_grad + grad.data.zero_(), float accuracy via "
     ".float().sum(), evaluate under torch.set_grad_enabled(False), loss accumulated as a detached "
     "tensor and converted at the end, history dict built at the end."),
    ("s06_nn_parameter", S06, "params are torch.nn.Parameter (d2l 5.2 style), relu via masked_fill, "
     "torch.flatten(X, 1), softmax subtracting a detached row max, gather/squeeze CE, p[...] = p - lr*g, "
     "evaluate decorated with bare @torch.no_grad (no parentheses), tqdm(range(1, n+1))."),
    ("s07_double_counting", S07, "init in a loop, relu via Tensor.where with a 0-dim zero, reshape(len(X), d), "
     "torch.div softmax, CE = sum()/n with arange on device, no_grad inside the per-param loop and "
     "grad=None outside it, accuracy counts in double (.double().sum().item() -> float), tqdm.write "
     "per epoch."),
    ("s08_compact", S08, "init from a list of shapes, relu torch.maximum(X, X.new_zeros(())), "
     "matmul().add() chain, CE with CPU arange(y.numel()), p.sub_(grad, alpha=lr) then grads set to "
     "None in a second loop, int(...) accuracy, list-comprehension evaluate, per-batch stats summed "
     "with numpy, tqdm with set_description."),
    ("s09_verbose", S09, "beginner long-hand: W.requires_grad = True attribute, relu with torch.zeros(X.shape, "
     "dtype, device), explicit row max / exps / sums softmax, CE with arange on y.device, update in one "
     "loop under no_grad and grad.zero_() in a second loop outside it, counters, tqdm progress with "
     "set_postfix."),
    ("s10_casts", S10, "CPU init then .to(device) BEFORE requires_grad_() (still leaves), relu via clone + "
     "masked_fill_, net casts X to W1.dtype (accepts float64 images), softmax rebinding O locally, "
     "gather CE with y.long(), sgd skipping params without grad, accuracy via max(1)[1] as float, "
     "evaluate with no_grad only around net_fn, trange with walrus + set_postfix_str."),
    ("s11_addmm_mask", S11, "init via nested helper defs, relu (X>0).to(X.dtype)*X, torch.addmm layers, "
     "torch.amax softmax, CE via a dense mask filled by index assignment (select-then-log), "
     "loss.sum().backward() on the 0-dim loss, grads zeroed in a second loop, accuracy with torch.sum, "
     "batch_y.size(0), `with tqdm(total=...) as bar`."),
    ("s12_set_grad_enabled", S12, "init with in-place W *= 0.01 before requires_grad_(), relu X*mask.type_as(X), "
     "contiguous().view(-1, d), softmax computed as exp(O - (c + log sum exp(O - c))), CE "
     "log(...).mean().neg(), p.data.add_ inside no_grad, accuracy via `_, predicted = torch.max(y_hat, 1)`, "
     "evaluate with torch.set_grad_enabled(False) + try/finally restore, prints total time."),
]

ENTRIES = []
for _name, _src, _desc in _CORRECT:
    _funcs = _split(_src)
    assert sorted(_funcs) == sorted(FUNCTION_NAMES), (_name, sorted(_funcs))
    ENTRIES.append({"name": _name, "kind": "correct", "functions": _funcs, "description": _desc})


# ----------------------------------------------------------------------------------------------
# Bugs: one function changed relative to a correct entry (`base`)
# ----------------------------------------------------------------------------------------------

_BUGS = [
    # ---------------- init_params ----------------
    ("b_init_std_one", "s01_d2l_classic", '''
def init_params(num_inputs, num_hiddens, num_outputs, device=None):
    W1 = torch.randn(num_inputs, num_hiddens, device=device, requires_grad=True)
    b1 = torch.zeros(num_hiddens, device=device, requires_grad=True)
    W2 = torch.randn(num_hiddens, num_outputs, device=device, requires_grad=True)
    b2 = torch.zeros(num_outputs, device=device, requires_grad=True)
    return [W1, b1, W2, b2]
''', "init_params: weights ~ N(0, 1) (forgot the 0.01 scale); spec says W ~ N(0, 0.01^2)."),
    ("b_init_variance_as_std", "s02_mask_gather", '''
def init_params(num_inputs, num_hiddens, num_outputs, device=None):
    W1 = torch.normal(0.0, 0.01 ** 2, size=(num_inputs, num_hiddens), device=device, requires_grad=True)
    b1 = torch.zeros(num_hiddens, device=device).requires_grad_()
    W2 = torch.normal(0.0, 0.01 ** 2, size=(num_hiddens, num_outputs), device=device, requires_grad=True)
    b2 = torch.zeros(num_outputs, device=device).requires_grad_()
    return [W1, b1, W2, b2]
''', "init_params: passes the variance 0.01**2 as torch.normal's std, so std is 1e-4 instead of 0.01."),
    ("b_init_not_leaf", "s01_d2l_classic", '''
def init_params(num_inputs, num_hiddens, num_outputs, device=None):
    W1 = torch.randn(num_inputs, num_hiddens, device=device, requires_grad=True) * 0.01
    b1 = torch.zeros(num_hiddens, device=device, requires_grad=True)
    W2 = torch.randn(num_hiddens, num_outputs, device=device, requires_grad=True) * 0.01
    b2 = torch.zeros(num_outputs, device=device, requires_grad=True)
    return [W1, b1, W2, b2]
''', "init_params: randn(..., requires_grad=True) * 0.01 makes W1, W2 non-leaf tensors (grad_fn=MulBackward); "
     "backward() leaves their .grad None (sgd then fails / W never trained). Notebook warns about exactly this."),
    ("b_init_float64_numpy", "s09_verbose", '''
def init_params(num_inputs, num_hiddens, num_outputs, device=None):
    W1 = torch.from_numpy(np.random.normal(0, 0.01, (num_inputs, num_hiddens))).to(device)
    b1 = torch.zeros(num_hiddens, dtype=torch.float64, device=device)
    W2 = torch.from_numpy(np.random.normal(0, 0.01, (num_hiddens, num_outputs))).to(device)
    b2 = torch.zeros(num_outputs, dtype=torch.float64, device=device)
    for p in (W1, b1, W2, b2):
        p.requires_grad_()
    return [W1, b1, W2, b2]
''', "init_params: weights drawn with NumPy are float64 (and biases made float64 to match); spec requires "
     "float32 (and float32 images @ float64 W1 raises a dtype error in net)."),
    ("b_init_device_ignored", "s04_where_inference", '''
def init_params(num_inputs, num_hiddens, num_outputs, device=None):
    W1 = torch.randn(num_inputs, num_hiddens).mul_(0.01).requires_grad_()
    b1 = torch.zeros(num_hiddens, requires_grad=True)
    W2 = torch.randn(num_hiddens, num_outputs).mul_(0.01).requires_grad_()
    b2 = torch.zeros(num_outputs, requires_grad=True)
    return [W1, b1, W2, b2]
''', "init_params: ignores the device argument; parameters always on the CPU."),
    ("b_init_to_after_requires_grad", "s10_casts", '''
def init_params(num_inputs, num_hiddens, num_outputs, device=None):
    W1 = (torch.randn(num_inputs, num_hiddens) * 0.01).requires_grad_().to(device)
    b1 = torch.zeros(num_hiddens, requires_grad=True).to(device)
    W2 = (torch.randn(num_hiddens, num_outputs) * 0.01).requires_grad_().to(device)
    b2 = torch.zeros(num_outputs, requires_grad=True).to(device)
    return [W1, b1, W2, b2]
''', "init_params: .to(device) AFTER requires_grad: on any non-CPU device (cuda, meta) the returned tensors are "
     "non-leaf copies (grad_fn=ToCopyBackward), their .grad stays None. Correct on CPU only."),
    ("b_init_transposed", "s01_d2l_classic", '''
def init_params(num_inputs, num_hiddens, num_outputs, device=None):
    W1 = (torch.randn(num_hiddens, num_inputs, device=device) * 0.01).requires_grad_()
    b1 = torch.zeros(num_hiddens, device=device, requires_grad=True)
    W2 = (torch.randn(num_outputs, num_hiddens, device=device) * 0.01).requires_grad_()
    b2 = torch.zeros(num_outputs, device=device, requires_grad=True)
    return [W1, b1, W2, b2]
''', "init_params: weights stored (out, in) like nn.Linear; this notebook's convention is (in, out)."),
    ("b_init_bias_2d", "s07_double_counting", '''
def init_params(num_inputs, num_hiddens, num_outputs, device=None):
    W1 = (torch.randn(num_inputs, num_hiddens, device=device) * 0.01).requires_grad_()
    b1 = torch.zeros(1, num_hiddens, device=device, requires_grad=True)
    W2 = (torch.randn(num_hiddens, num_outputs, device=device) * 0.01).requires_grad_()
    b2 = torch.zeros(1, num_outputs, device=device, requires_grad=True)
    return [W1, b1, W2, b2]
''', "init_params: biases of shape (1, h) and (1, k) instead of (h,) and (k,) (forward still broadcasts; "
     "wrong per the spec's shapes)."),
    ("b_init_bias_no_grad", "s03_logsumexp_onehot", '''
def init_params(num_inputs, num_hiddens, num_outputs, device=None):
    W1 = torch.empty(num_inputs, num_hiddens, device=device).normal_(0, 0.01).requires_grad_(True)
    b1 = torch.zeros(num_hiddens, device=device)
    W2 = torch.empty(num_hiddens, num_outputs, device=device).normal_(0, 0.01).requires_grad_(True)
    b2 = torch.zeros(num_outputs, device=device)
    return [W1, b1, W2, b2]
''', "init_params: biases do not require grad (never trained; sgd fails on their None .grad)."),
    ("b_init_uniform", "s08_compact", '''
def init_params(num_inputs, num_hiddens, num_outputs, device=None):
    W1 = (torch.rand(num_inputs, num_hiddens, device=device) * 0.01).requires_grad_()
    b1 = torch.zeros(num_hiddens, device=device).requires_grad_()
    W2 = (torch.rand(num_hiddens, num_outputs, device=device) * 0.01).requires_grad_()
    b2 = torch.zeros(num_outputs, device=device).requires_grad_()
    return [W1, b1, W2, b2]
''', "init_params: torch.rand (uniform on [0, 0.01), mean 0.005, std 0.0029) instead of N(0, 0.01^2)."),
    ("b_init_bias_random", "s05_tensor_mean_normal", '''
def init_params(num_inputs, num_hiddens, num_outputs, device=None):
    W1 = torch.normal(mean=torch.zeros(num_inputs, num_hiddens, device=device), std=0.01).requires_grad_()
    b1 = torch.normal(mean=torch.zeros(num_hiddens, device=device), std=0.01).requires_grad_()
    W2 = torch.normal(mean=torch.zeros(num_hiddens, num_outputs, device=device), std=0.01).requires_grad_()
    b2 = torch.normal(mean=torch.zeros(num_outputs, device=device), std=0.01).requires_grad_()
    return [W1, b1, W2, b2]
''', "init_params: biases drawn from N(0, 0.01^2) too; spec says b zeros."),

    # ---------------- relu ----------------
    ("b_relu_abs", "s02_mask_gather", '''
def relu(X):
    return X.abs()
''', "relu: returns |X| (negatives become positive instead of 0)."),
    ("b_relu_inplace", "s01_d2l_classic", '''
def relu(X):
    X[X < 0] = 0
    return X
''', "relu: modifies X in place (caller's tensor changed; fails on a leaf that requires grad); "
     "notebook says return a new tensor and do not modify X."),
    ("b_relu_torch_max_dim", "s01_d2l_classic", '''
def relu(X):
    return torch.max(X, 0)
''', "relu: torch.max(X, 0) is a reduction over dim 0 returning (values, indices), not max(X, 0) element-wise."),
    ("b_relu_cpu_zeros", "s09_verbose", '''
def relu(X):
    zeros = torch.zeros(X.shape)
    return torch.maximum(X, zeros)
''', "relu: zeros created on the CPU (no device=X.device): fails for CUDA/meta inputs (device-correctness)."),
    ("b_relu_clamp", "s05_tensor_mean_normal", '''
def relu(X):
    return X.clamp(min=0)
''', "relu: uses clamp, which the spec forbids (values are right; a rule violation)."),
    ("b_relu_numpy", "s01_d2l_classic", '''
def relu(X):
    return np.maximum(X, 0)
''', "relu: np.maximum goes through NumPy: raises for any input that requires grad or is part of a graph "
     "(\"Can't call numpy() on Tensor that requires grad\"), so net/training fail; a plain CPU tensor comes "
     "back with no graph; CUDA/meta inputs fail."),
    ("b_relu_step", "s03_logsumexp_onehot", '''
def relu(X):
    return (X > 0).float()
''', "relu: returns the step function (its derivative) instead of max(X, 0); also forces float32."),
    # ---------------- net ----------------
    ("b_net_reshape_wrong", "s01_d2l_classic", '''
def net(X, params):
    W1, b1, W2, b2 = params
    X = X.reshape(W1.shape[0], -1)
    H = relu(X @ W1 + b1)
    return H @ W2 + b2
''', "net: reshape(num_inputs, -1) instead of (-1, num_inputs): shape error (or transposed garbage)."),
    ("b_net_hardcoded_784", "s02_mask_gather", '''
def net(X, params):
    W1, b1, W2, b2 = params
    X = X.reshape(-1, 784)
    return relu(X @ W1 + b1) @ W2 + b2
''', "net: hard-codes 784 inputs instead of W1.shape[0]; fails for any other layer size."),
    ("b_net_no_relu", "s04_where_inference", '''
def net(X, params):
    W1, b1, W2, b2 = params
    X = X.reshape(-1, W1.shape[0])
    return (X @ W1 + b1) @ W2 + b2
''', "net: forgets the ReLU (a linear model)."),
    ("b_net_softmax_output", "s05_tensor_mean_normal", '''
def net(X, params):
    W1, b1, W2, b2 = params
    X = X.reshape(X.shape[0], -1)
    H = relu(X @ W1 + b1)
    return softmax(H @ W2 + b2)
''', "net: applies softmax to the output; spec says net returns scores (no softmax)."),
    ("b_net_relu_on_output", "s06_nn_parameter", '''
def net(X, params):
    W1, b1, W2, b2 = params
    H = relu(torch.flatten(X, 1) @ W1 + b1)
    return relu(H @ W2 + b2)
''', "net: ReLU also on the output layer (scores clipped at 0)."),
    ("b_net_bias_after_relu", "s07_double_counting", '''
def net(X, params):
    W1, b1, W2, b2 = params
    X_flat = X.reshape(len(X), W1.shape[0])
    hidden = relu(X_flat @ W1) + b1
    return hidden @ W2 + b2
''', "net: adds b1 after the ReLU instead of before it."),
    ("b_net_flatten_all", "s08_compact", '''
def net(X, params):
    W1, b1, W2, b2 = params
    H = relu(X.flatten() @ W1 + b1)
    return H @ W2 + b2
''', "net: X.flatten() flattens the batch dimension too (shape error for n > 1; 1-D output for n == 1)."),
    ("b_net_transpose_weights", "s09_verbose", '''
def net(X, params):
    W1, b1, W2, b2 = params
    X_flat = X.reshape(X.shape[0], -1)
    hidden = relu(X_flat @ W1.T + b1)
    return hidden @ W2.T + b2
''', "net: uses W.T (the (out, in) convention of notebooks 02/04); shape error with this notebook's (in, out) weights."),

    # ---------------- softmax ----------------
    ("b_softmax_unstable", "s01_d2l_classic", '''
def softmax(O):
    O_exp = torch.exp(O)
    return O_exp / O_exp.sum(1, keepdim=True)
''', "softmax: no max subtraction: exp(1000) = inf, so rows with large scores give nan."),
    ("b_softmax_global_max", "s02_mask_gather", '''
def softmax(O):
    e = torch.exp(O - O.max())
    return e / e.sum(dim=-1, keepdim=True)
''', "softmax: subtracts the max of the whole batch: a row far below it underflows to 0/0 = nan."),
    ("b_softmax_dim0", "s04_where_inference", '''
def softmax(O):
    shifted = O - O.max(0, keepdim=True)[0]
    e = shifted.exp()
    return e / e.sum(0, keepdim=True)
''', "softmax: normalises columns (dim=0) instead of rows."),
    ("b_softmax_sum_no_keepdim", "s05_tensor_mean_normal", '''
def softmax(O):
    m, _ = torch.max(O, dim=1, keepdim=True)
    E = torch.exp(O - m)
    return E / torch.sum(E, dim=1)
''', "softmax: row sums without keepdim: (n, k) / (n,) broadcasts along the wrong axis -- error for n != k, "
     "silently wrong for square O."),
    ("b_softmax_max_no_keepdim", "s09_verbose", '''
def softmax(O):
    row_max = torch.max(O, dim=1).values
    exps = torch.exp(O - row_max)
    sums = torch.sum(exps, dim=1, keepdim=True)
    return exps / sums
''', "softmax: row max without keepdim: O - (n,) subtracts row maxima from columns -- error for n != k, "
     "and for square O the subtraction is per column so it no longer cancels (wrong, may over/underflow)."),
    ("b_softmax_inplace", "s10_casts", '''
def softmax(O):
    O -= O.max(dim=1, keepdim=True).values
    O = O.exp()
    return O / O.sum(dim=1, keepdim=True)
''', "softmax: `O -= ...` modifies the caller's scores in place (notebook: do not modify O in place); "
     "fails outright if O is a leaf requiring grad."),
    ("b_softmax_data_detached", "s06_nn_parameter", '''
def softmax(O):
    E = torch.exp(O.data - O.data.max(dim=-1, keepdim=True).values)
    return E / E.sum(dim=-1, keepdim=True)
''', "softmax: computed on O.data: the result is cut from the graph, so the loss cannot be back-propagated "
     "to the parameters."),
    ("b_softmax_log", "s03_logsumexp_onehot", '''
def softmax(O):
    return O - torch.logsumexp(O, dim=1, keepdim=True)
''', "softmax: returns log-probabilities (log_softmax), rows do not sum to 1."),

    # ---------------- cross_entropy ----------------
    ("b_ce_sum", "s01_d2l_classic", '''
def cross_entropy(y_hat, y):
    return -torch.log(y_hat[range(len(y_hat)), y]).sum()
''', "cross_entropy: sum over the batch instead of the mean."),
    ("b_ce_matrix_index", "s05_tensor_mean_normal", '''
def cross_entropy(y_hat, y):
    return -torch.mean(torch.log(y_hat[:, y]))
''', "cross_entropy: y_hat[:, y] is an n x n matrix (every row with every label), mean over all of it."),
    ("b_ce_item", "s02_mask_gather", '''
def cross_entropy(y_hat, y):
    picked = y_hat.gather(1, y.reshape(-1, 1))
    return -torch.log(picked).mean().item()
''', "cross_entropy: returns a Python float (.item()) instead of a 0-dim tensor: cannot backward()."),
    ("b_ce_no_minus", "s04_where_inference", '''
def cross_entropy(y_hat, y):
    n = y_hat.shape[0]
    p = y_hat[torch.arange(n, device=y_hat.device), y]
    return p.log().sum() / n
''', "cross_entropy: forgets the minus sign (negative loss; gradient ascent)."),
    ("b_ce_softmax_again", "s07_double_counting", '''
def cross_entropy(y_hat, y):
    probs = softmax(y_hat)
    idx = torch.arange(probs.shape[0], device=probs.device)
    return -torch.log(probs[idx, y]).mean()
''', "cross_entropy: applies softmax to y_hat although y_hat already holds probabilities."),
    ("b_ce_onehot_log_nan", "s03_logsumexp_onehot", '''
def cross_entropy(y_hat, y):
    one_hot = torch.nn.functional.one_hot(y, num_classes=y_hat.shape[1])
    return -(one_hot * torch.log(y_hat)).sum(dim=1).mean()
''', "cross_entropy: log of every entry times one-hot: when a non-target probability is exactly 0 "
     "(softmax underflow), 0 * log(0) = 0 * -inf = nan, though the true loss is finite."),
    ("b_ce_log10", "s08_compact", '''
def cross_entropy(y_hat, y):
    return -y_hat[torch.arange(y.numel()), y].log10().mean()
''', "cross_entropy: base-10 log instead of the natural log."),
    ("b_ce_predicted_class", "s09_verbose", '''
def cross_entropy(y_hat, y):
    correct_class_probs = y_hat.max(dim=1).values
    return -torch.mean(torch.log(correct_class_probs))
''', "cross_entropy: uses the probability of the predicted (max) class instead of the true class y."),
    ("b_ce_cpu_mask", "s11_addmm_mask", '''
def cross_entropy(y_hat, y):
    mask = torch.zeros(y_hat.shape)
    mask[range(len(y)), y] = 1.0
    return -torch.log((y_hat * mask).sum(dim=1)).mean()
''', "cross_entropy: mask built on the CPU (torch.zeros without device): fails for CUDA/meta y_hat "
     "(device-correctness)."),
    ("b_ce_rows_indexed_by_label", "s10_casts", '''
def cross_entropy(y_hat, y):
    return -torch.log(y_hat[y]).mean()
''', "cross_entropy: y_hat[y] selects whole rows by label (n, k) and averages the log of all of them."),

    # ---------------- sgd ----------------
    ("b_sgd_no_reset", "s01_d2l_classic", '''
def sgd(params, lr):
    with torch.no_grad():
        for param in params:
            param -= lr * param.grad
''', "sgd: never resets the gradients: each step uses the sum of all gradients so far."),
    ("b_sgd_reset_before_update", "s03_logsumexp_onehot", '''
def sgd(params, lr):
    with torch.no_grad():
        for p in params:
            p.grad.zero_()
            p.add_(p.grad, alpha=-lr)
''', "sgd: zeroes the gradient before using it: the update adds 0, parameters never change."),
    ("b_sgd_rebind", "s02_mask_gather", '''
def sgd(params, lr):
    with torch.no_grad():
        for p in params:
            p = p - lr * p.grad
            p.grad = None
''', "sgd: `p = p - lr*g` rebinds a local name; the parameters are never updated (and p.grad=None hits "
     "the new tensor, so the real grads are not reset either)."),
    ("b_sgd_no_no_grad", "s01_d2l_classic", '''
def sgd(params, lr):
    for param in params:
        param -= lr * param.grad
        param.grad.zero_()
''', "sgd: in-place update outside torch.no_grad(): autograd raises (a leaf that requires grad is "
     "used in an in-place operation)."),
    ("b_sgd_no_grad_without_with", "s09_verbose", '''
def sgd(params, lr):
    torch.no_grad()
    for i in range(len(params)):
        params[i] -= lr * params[i].grad
        params[i].grad.zero_()
''', "sgd: calls torch.no_grad() as a statement instead of `with torch.no_grad():` -- no effect, the "
     "update is recorded and autograd raises."),
    ("b_sgd_lr_sign", "s04_where_inference", '''
def sgd(params, lr):
    with torch.no_grad():
        for p in params:
            p.copy_(p + lr * p.grad)
            p.grad = None
''', "sgd: adds the gradient (gradient ascent)."),
    ("b_sgd_replace_list_items", "s05_tensor_mean_normal", '''
def sgd(params, lr):
    with torch.no_grad():
        for i in range(len(params)):
            params[i] = params[i] - lr * params[i].grad
''', "sgd: replaces the list entries with new tensors (made under no_grad, so they do not require grad) "
     "instead of updating in place; the original parameter tensors never change, their grads are not "
     "reset, and the next backward through the new tensors fails."),
    ("b_sgd_reset_only_last", "s06_nn_parameter", '''
def sgd(params, lr):
    with torch.no_grad():
        for p in params:
            p[...] = p - lr * p.grad
        p.grad.zero_()
''', "sgd: indentation: only the last parameter's gradient is reset; the others accumulate."),
    ("b_sgd_grad_cpu_zeros", "s07_double_counting", '''
def sgd(params, lr):
    for p in params:
        with torch.no_grad():
            p -= p.grad * lr
        p.grad = torch.zeros(p.shape)
''', "sgd: resets grads with a fresh CPU float32 tensor: error for CUDA/meta parameters (and for float64 "
     "ones: assigned grad of a different type)."),
    ("b_sgd_grad_zeroed_via_data_rebind", "s12_set_grad_enabled", '''
def sgd(params, lr):
    with torch.no_grad():
        for p in params:
            p.add_(p.grad, alpha=-lr)
            grad = p.grad
            grad = torch.zeros_like(grad)
''', "sgd: `grad = torch.zeros_like(grad)` rebinds a local name, the parameter's .grad is never reset."),

    # ---------------- accuracy ----------------
    ("b_acc_tensor", "s02_mask_gather", '''
def accuracy(y_hat, y):
    return (y_hat.argmax(dim=1) == y).sum()
''', "accuracy: returns a 0-dim tensor instead of a Python number."),
    ("b_acc_fraction", "s03_logsumexp_onehot", '''
def accuracy(y_hat, y):
    pred = y_hat.max(dim=1).indices
    return (pred == y).float().mean().item()
''', "accuracy: returns the fraction correct instead of the number of correct predictions."),
    ("b_acc_dim0", "s04_where_inference", '''
def accuracy(y_hat, y):
    return torch.argmax(y_hat, dim=0).eq(y).sum().item()
''', "accuracy: argmax over dim 0 (over samples) instead of over classes."),
    ("b_acc_no_dim", "s09_verbose", '''
def accuracy(y_hat, y):
    predictions = y_hat.argmax()
    correct = (predictions == y).sum().item()
    return correct
''', "accuracy: argmax() without dim gives one index into the flattened tensor, compared with every label."),
    ("b_acc_max_values", "s12_set_grad_enabled", '''
def accuracy(y_hat, y):
    predicted, _ = torch.max(y_hat, 1)
    return (predicted == y).sum().item()
''', "accuracy: unpacks torch.max the wrong way round: compares the max values (scores) with the labels."),

    # ---------------- evaluate_accuracy ----------------
    ("b_eval_no_no_grad", "s01_d2l_classic", '''
def evaluate_accuracy(net_fn, data_iter):
    correct, total = 0.0, 0
    for X, y in data_iter:
        correct += accuracy(net_fn(X), y)
        total += y.numel()
    return correct / total
''', "evaluate_accuracy: no torch.no_grad(): builds a graph for every batch (value is right; spec forbids)."),
    ("b_eval_mean_of_batch_acc", "s02_mask_gather", '''
@torch.no_grad()
def evaluate_accuracy(net_fn, data_iter):
    accs = []
    for X, y in data_iter:
        accs.append(accuracy(net_fn(X), y) / X.shape[0])
    return sum(accs) / len(accs)
''', "evaluate_accuracy: unweighted mean of per-batch accuracies (wrong when the last batch is smaller)."),
    ("b_eval_batches_times_bs", "s07_double_counting", '''
def evaluate_accuracy(net_fn, data_iter):
    n_right, n_batches, batch_size = 0.0, 0, None
    with torch.no_grad():
        for X, y in data_iter:
            if batch_size is None:
                batch_size = y.shape[0]
            n_right += accuracy(net_fn(X), y)
            n_batches += 1
    return n_right / (n_batches * batch_size)
''', "evaluate_accuracy: divides by number_of_batches * first batch size (last batch is smaller)."),
    ("b_eval_returns_count", "s09_verbose", '''
def evaluate_accuracy(net_fn, data_iter):
    n_correct = 0
    with torch.no_grad():
        for X, y in data_iter:
            n_correct = n_correct + accuracy(net_fn(X), y)
    return n_correct
''', "evaluate_accuracy: returns the number correct instead of the fraction."),
    ("b_eval_return_in_loop", "s11_addmm_mask", '''
def evaluate_accuracy(net_fn, data_iter):
    total_correct, total = 0, 0
    with torch.no_grad():
        for batch_X, batch_y in data_iter:
            total_correct += accuracy(net_fn(batch_X), batch_y)
            total += batch_y.size(0)
            return total_correct / total
''', "evaluate_accuracy: `return` indented into the loop: only the first batch is evaluated."),
    ("b_eval_no_grad_statement", "s05_tensor_mean_normal", '''
def evaluate_accuracy(net_fn, data_iter):
    torch.no_grad()
    correct, n = 0.0, 0
    for X, y in data_iter:
        correct += accuracy(net_fn(X), y)
        n += len(y)
    return correct / n
''', "evaluate_accuracy: torch.no_grad() called as a statement (no `with`): no effect, graphs are built."),
    ("b_eval_nograd_too_late", "s08_compact", '''
def evaluate_accuracy(net_fn, data_iter):
    counts = []
    for X, y in data_iter:
        scores = net_fn(X)
        with torch.no_grad():
            counts.append((accuracy(scores, y), len(y)))
    return sum(c for c, _ in counts) / sum(n for _, n in counts)
''', "evaluate_accuracy: no_grad only around accuracy(); net_fn(X) runs with recording on (graph built)."),

    # ---------------- train_epoch ----------------
    ("b_te_mean_of_means", "s01_d2l_classic", '''
def train_epoch(net_fn, train_iter, loss_fn, updater):
    losses, correct, n = [], 0.0, 0
    for X, y in train_iter:
        y_hat = net_fn(X)
        l = loss_fn(y_hat, y)
        l.backward()
        updater()
        losses.append(float(l))
        correct += accuracy(y_hat, y)
        n += len(y)
    return sum(losses) / len(losses), correct / n
''', "train_epoch: loss = unweighted mean of batch losses (the last, smaller batch counts as much as a full one)."),
    ("b_te_loss_tensor", "s02_mask_gather", '''
def train_epoch(net_fn, train_iter, loss_fn, updater):
    loss_sum, right, seen = 0.0, 0, 0
    for X, y in train_iter:
        scores = net_fn(X)
        loss = loss_fn(scores, y)
        loss.backward()
        updater()
        loss_sum += loss * X.shape[0]
        right += accuracy(scores, y)
        seen += X.shape[0]
    return loss_sum / seen, right / seen
''', "train_epoch: adds up the loss tensors themselves: returns a tensor attached to every batch's graph "
     "(docstring: both floats; notebook warns this keeps the graphs alive)."),
    ("b_te_update_before_backward", "s03_logsumexp_onehot", '''
def train_epoch(net_fn, train_iter, loss_fn, updater):
    losses, sizes, corrects = [], [], []
    for X, y in train_iter:
        out = net_fn(X)
        l = loss_fn(out, y)
        updater()
        l.backward()
        losses.append(l.item())
        sizes.append(len(y))
        corrects.append(accuracy(out, y))
    total = sum(sizes)
    return sum(l * s for l, s in zip(losses, sizes)) / total, sum(corrects) / total
''', "train_epoch: calls updater() before loss.backward(): the first step finds no gradients, each later "
     "step applies the previous batch's gradient."),
    ("b_te_loss_after_update", "s04_where_inference", '''
def train_epoch(net_fn, train_iter, loss_fn, updater):
    total_loss, total_hits, total_n = 0.0, 0, 0
    for X, y in train_iter:
        scores = net_fn(X)
        loss = loss_fn(scores, y)
        loss.backward()
        updater()
        with torch.no_grad():
            total_loss += loss_fn(net_fn(X), y).item() * y.shape[0]
        total_hits += accuracy(scores, y)
        total_n += y.shape[0]
    return total_loss / total_n, total_hits / total_n
''', "train_epoch: reports the loss recomputed after the update instead of the back-propagated one "
     "(notebook: use the loss from before each update)."),
    ("b_te_updater_with_batch_size", "s05_tensor_mean_normal", '''
def train_epoch(net_fn, train_iter, loss_fn, updater):
    loss_sum, correct, n = 0.0, 0.0, 0
    for X, y in train_iter:
        y_hat = net_fn(X)
        loss = loss_fn(y_hat, y)
        loss.backward()
        updater(X.shape[0])
        loss_sum += loss.item() * len(y)
        correct += accuracy(y_hat, y)
        n += len(y)
    return loss_sum / n, correct / n
''', "train_epoch: d2l-style updater(batch_size): this course's updater() takes no argument (TypeError)."),
    ("b_te_swapped_return", "s06_nn_parameter", '''
def train_epoch(net_fn, train_iter, loss_fn, updater):
    sum_loss, sum_acc, num = 0.0, 0.0, 0
    for X, y in train_iter:
        scores = net_fn(X)
        loss = loss_fn(scores, y)
        loss.backward()
        updater()
        sum_loss += loss.item() * len(X)
        sum_acc += accuracy(scores, y)
        num += len(X)
    return sum_acc / num, sum_loss / num
''', "train_epoch: returns (accuracy, loss) instead of (loss, accuracy)."),
    ("b_te_acc_count", "s07_double_counting", '''
def train_epoch(net_fn, train_iter, loss_fn, updater):
    sum_loss, sum_right, count = 0.0, 0.0, 0
    for X, y in train_iter:
        y_hat = net_fn(X)
        loss = loss_fn(y_hat, y)
        loss.backward()
        updater()
        sum_loss += loss.item() * y.shape[0]
        sum_right += accuracy(y_hat, y)
        count += y.shape[0]
    return sum_loss / count, sum_right
''', "train_epoch: returns the number of correct predictions instead of the training accuracy."),
    ("b_te_loss_not_times_batch", "s08_compact", '''
def train_epoch(net_fn, train_iter, loss_fn, updater):
    loss_sum, right, n = 0.0, 0, 0
    for X, y in train_iter:
        scores = net_fn(X)
        l = loss_fn(scores, y)
        l.backward()
        updater()
        loss_sum += l.item()
        right += accuracy(scores, y)
        n += len(y)
    return loss_sum / n, right / n
''', "train_epoch: sums the batch MEAN losses and divides by the number of samples (loss ~ batch_size times "
     "too small)."),
    ("b_te_no_backward", "s09_verbose", '''
def train_epoch(net_fn, train_iter, loss_fn, updater):
    total_loss = 0.0
    total_correct = 0
    total_samples = 0
    for X, y in train_iter:
        scores = net_fn(X)
        loss = loss_fn(scores, y)
        updater()
        batch_size = len(y)
        total_loss = total_loss + loss.item() * batch_size
        total_correct = total_correct + accuracy(scores, y)
        total_samples = total_samples + batch_size
    return total_loss / total_samples, total_correct / total_samples
''', "train_epoch: forgets loss.backward(): the updater finds no gradients."),
    ("b_te_forward_under_no_grad", "s10_casts", '''
def train_epoch(net_fn, train_iter, loss_fn, updater):
    n, loss_total, correct = 0, 0.0, 0.0
    for X, y in train_iter:
        with torch.no_grad():
            scores = net_fn(X)
        loss = loss_fn(scores, y)
        loss.requires_grad_(True)
        loss.backward()
        updater()
        n += len(y)
        loss_total += len(y) * loss.item()
        correct += accuracy(scores, y)
    return loss_total / n, correct / n
''', "train_epoch: runs the forward pass under no_grad (then forces requires_grad on the loss to silence the "
     "error): backward reaches no parameter."),
    ("b_te_update_once_per_epoch", "s12_set_grad_enabled", '''
def train_epoch(net_fn, train_iter, loss_fn, updater):
    loss_sum, correct, n = 0.0, 0, 0
    for X, y in train_iter:
        logits = net_fn(X)
        batch_loss = loss_fn(logits, y)
        batch_loss.backward()
        loss_sum += batch_loss.item() * len(X)
        correct += accuracy(logits, y)
        n += len(X)
    updater()
    return loss_sum / n, correct / n
''', "train_epoch: updater() dedented out of the loop: one step per epoch with the gradients of all batches "
     "summed, instead of one step per batch."),

    # ---------------- train ----------------
    ("b_train_wrong_keys", "s01_d2l_classic", '''
def train(net_fn, train_iter, test_iter, loss_fn, num_epochs, updater):
    history = {"loss": [], "train_accuracy": [], "test_accuracy": []}
    for epoch in tqdm(range(num_epochs)):
        train_loss, train_acc = train_epoch(net_fn, train_iter, loss_fn, updater)
        history["loss"].append(train_loss)
        history["train_accuracy"].append(train_acc)
        history["test_accuracy"].append(evaluate_accuracy(net_fn, test_iter))
    return history
''', "train: history keys are not train_loss / train_acc / test_acc."),
    ("b_train_test_on_train", "s02_mask_gather", '''
def train(net_fn, train_iter, test_iter, loss_fn, num_epochs, updater):
    history = {"train_loss": [], "train_acc": [], "test_acc": []}
    for _ in tqdm(range(num_epochs)):
        loss, acc = train_epoch(net_fn, train_iter, loss_fn, updater)
        history["train_loss"].append(loss)
        history["train_acc"].append(acc)
        history["test_acc"].append(evaluate_accuracy(net_fn, train_iter))
    return history
''', "train: test accuracy measured on train_iter."),
    ("b_train_off_by_one", "s03_logsumexp_onehot", '''
def train(net_fn, train_iter, test_iter, loss_fn, num_epochs, updater):
    history = {"train_loss": [], "train_acc": [], "test_acc": []}
    for epoch in tqdm(range(1, num_epochs)):
        tl, ta = train_epoch(net_fn, train_iter, loss_fn, updater)
        history["train_loss"].append(tl)
        history["train_acc"].append(ta)
        history["test_acc"].append(evaluate_accuracy(net_fn, test_iter))
    return history
''', "train: range(1, num_epochs) runs num_epochs - 1 epochs."),
    ("b_train_overwrite", "s04_where_inference", '''
def train(net_fn, train_iter, test_iter, loss_fn, num_epochs, updater):
    history = {}
    for epoch in tqdm(range(num_epochs)):
        loss, acc = train_epoch(net_fn, train_iter, loss_fn, updater)
        history["train_loss"] = loss
        history["train_acc"] = acc
        history["test_acc"] = evaluate_accuracy(net_fn, test_iter)
    return history
''', "train: stores only the last epoch's numbers instead of lists with one entry per epoch."),
    ("b_train_returns_tuple", "s05_tensor_mean_normal", '''
def train(net_fn, train_iter, test_iter, loss_fn, num_epochs, updater):
    train_losses, train_accs, test_accs = [], [], []
    for epoch in tqdm(range(num_epochs)):
        l, a = train_epoch(net_fn, train_iter, loss_fn, updater)
        train_losses.append(l)
        train_accs.append(a)
        test_accs.append(evaluate_accuracy(net_fn, test_iter))
    return train_losses, train_accs, test_accs
''', "train: returns a tuple of three lists instead of the history dict."),
    ("b_train_eval_once", "s06_nn_parameter", '''
def train(net_fn, train_iter, test_iter, loss_fn, num_epochs, updater):
    history = {key: [] for key in ("train_loss", "train_acc", "test_acc")}
    for epoch in tqdm(range(num_epochs)):
        train_loss, train_acc = train_epoch(net_fn, train_iter, loss_fn, updater)
        history["train_loss"].append(train_loss)
        history["train_acc"].append(train_acc)
    history["test_acc"].append(evaluate_accuracy(net_fn, test_iter))
    return history
''', "train: test accuracy measured once after training (one entry instead of one per epoch)."),
    ("b_train_tuple_in_loss", "s07_double_counting", '''
def train(net_fn, train_iter, test_iter, loss_fn, num_epochs, updater):
    history = dict(train_loss=[], train_acc=[], test_acc=[])
    for epoch in tqdm(range(num_epochs)):
        result = train_epoch(net_fn, train_iter, loss_fn, updater)
        history["train_loss"].append(result)
        history["train_acc"].append(result[1])
        history["test_acc"].append(evaluate_accuracy(net_fn, test_iter))
    return history
''', "train: appends the whole (loss, acc) tuple to train_loss instead of the loss number."),
    ("b_train_no_tqdm", "s08_compact", '''
def train(net_fn, train_iter, test_iter, loss_fn, num_epochs, updater):
    history = {"train_loss": [], "train_acc": [], "test_acc": []}
    for epoch in range(num_epochs):
        tl, ta = train_epoch(net_fn, train_iter, loss_fn, updater)
        history["train_loss"].append(tl)
        history["train_acc"].append(ta)
        history["test_acc"].append(evaluate_accuracy(net_fn, test_iter))
        print(f"epoch {epoch + 1}: loss {tl:.4f} train acc {ta:.3f}")
    return history
''', "train: no tqdm progress bar (prints instead). Values all correct; wrong only by the spec's "
     "'with a tqdm progress bar' (cosmetic requirement)."),
    ("b_train_epoch_lists_shared", "s09_verbose", '''
def train(net_fn, train_iter, test_iter, loss_fn, num_epochs, updater):
    history = dict.fromkeys(["train_loss", "train_acc", "test_acc"], [])
    progress = tqdm(range(num_epochs))
    for epoch in progress:
        train_loss, train_acc = train_epoch(net_fn, train_iter, loss_fn, updater)
        test_acc = evaluate_accuracy(net_fn, test_iter)
        history["train_loss"].append(train_loss)
        history["train_acc"].append(train_acc)
        history["test_acc"].append(test_acc)
    return history
''', "train: dict.fromkeys(keys, []) shares ONE list among the three keys: every key holds all 3*num_epochs "
     "numbers mixed together."),
]

_DROP = set()

for _name, _base, _src, _desc in _BUGS:
    if _name in _DROP:
        continue
    _funcs = _split(_src)
    assert len(_funcs) == 1 and set(_funcs) <= set(FUNCTION_NAMES), _name
    ENTRIES.append({"name": _name, "kind": "bug", "base": _base, "functions": _funcs, "description": _desc})


# ----------------------------------------------------------------------------------------------
# Ambiguous: label depends on how the spec is read (not in ENTRIES)
# ----------------------------------------------------------------------------------------------

_AMBIG = [
    ("a_sgd_data_no_no_grad", "correct", "s01_d2l_classic", '''
def sgd(params, lr):
    for param in params:
        param.data -= lr * param.grad.data
        param.grad.data.zero_()
''', "sgd through p.data without torch.no_grad() (old d2l style). Functionally identical (nothing recorded, "
     "in place, grads reset).",
     "Spec says 'in-place update under no_grad' and 'must catch ... update outside no_grad'; .data updates "
     "are not recorded either, so is this 'outside no_grad'?"),
    ("a_sgd_data_assign", "correct", "s01_d2l_classic", '''
def sgd(params, lr):
    with torch.no_grad():
        for param in params:
            param.data = param - lr * param.grad
            param.grad = None
''', "sgd assigning a new tensor to p.data: the parameter OBJECT is the same (net keeps using it and sees "
     "the new values), but its storage is replaced (data_ptr changes).",
     "'params replaced instead of updated in place': the Python objects are kept, storage is not."),
    ("a_net_torch_relu", "correct", "s01_d2l_classic", '''
def net(X, params):
    W1, b1, W2, b2 = params
    X = X.reshape((-1, W1.shape[0]))
    return torch.relu(X @ W1 + b1) @ W2 + b2
''', "net using torch.relu instead of the student's relu: values identical.",
     "The notebook says 'Use your relu' in net; the spec's relu ban is stated for relu(X) only."),
    ("a_net_view", "correct", "s01_d2l_classic", '''
def net(X, params):
    W1, b1, W2, b2 = params
    H = relu(X.view(-1, W1.shape[0]) @ W1 + b1)
    return H @ W2 + b2
''', "net flattening with .view instead of .reshape: identical for contiguous X (every loader batch), raises "
     "for a non-contiguous X (e.g. a transposed or strided batch).",
     "Nothing says X is contiguous; d2l uses reshape."),
    ("a_softmax_library", "correct", "s01_d2l_classic", '''
def softmax(O):
    return torch.softmax(O, dim=1)
''', "softmax via torch.softmax: stable and correct.",
     "The spec forbids library relu/clamp but does not forbid torch.softmax; the notebook asks you to write it."),
    ("a_ce_loop_per_sample", "correct", "s09_verbose", '''
def cross_entropy(y_hat, y):
    losses = [-torch.log(y_hat[i, y[i]]) for i in range(len(y))]
    return torch.stack(losses).mean()
''', "cross_entropy with a Python loop over samples: right value and gradient on CPU/CUDA, but y[i] as an "
     "index needs .item() internally, which raises on the meta device; also slow (n kernel launches).",
     "Spec: 'tests check device-correctness ... on the meta device' -- a data-dependent but correct "
     "implementation fails there."),
    ("a_ce_bool_mask", "correct", "s11_addmm_mask", '''
def cross_entropy(y_hat, y):
    mask = torch.zeros_like(y_hat, dtype=torch.bool)
    mask[torch.arange(len(y), device=y.device), y] = True
    return -torch.log(y_hat[mask]).mean()
''', "cross_entropy selecting y_hat[bool_mask] (order-preserving, mean unaffected). Correct on CPU/CUDA, "
     "but boolean-mask indexing has a data-dependent shape and raises on the meta device.",
     "Same meta-device question as a_ce_loop_per_sample."),
    ("a_ce_log_then_gather", "bug", "s02_mask_gather", '''
def cross_entropy(y_hat, y):
    return -torch.log(y_hat).gather(1, y.reshape(-1, 1)).mean()
''', "cross_entropy taking log of ALL entries then gathering: forward value correct (the -inf of a zero "
     "non-target probability is not selected), but backward gives nan in y_hat.grad for every exactly-zero "
     "non-target probability (0/0 in log's backward), which poisons the parameters.",
     "Only shows up when a probability underflows to exactly 0; is a nan gradient in that edge case a bug "
     "the tests must catch?"),
    ("a_acc_numpy_int", "correct", "s01_d2l_classic", '''
def accuracy(y_hat, y):
    return (y_hat.argmax(dim=1) == y).cpu().numpy().sum()
''', "accuracy returning numpy.int64 (from .numpy().sum()).",
     "'a Python number': numpy.int64 is not an int subclass (numpy.float64 IS a float subclass)."),
    ("a_eval_inference_mode", "correct", "s01_d2l_classic", '''
def evaluate_accuracy(net_fn, data_iter):
    correct, total = 0.0, 0
    with torch.inference_mode():
        for X, y in data_iter:
            correct += accuracy(net_fn(X), y)
            total += y.numel()
    return correct / total
''', "evaluate_accuracy under torch.inference_mode() (also used in correct entry s04_where_inference).",
     "Spec says 'must not build a graph (no_grad)'; inference_mode builds no graph and disables grad mode, "
     "but is not literally no_grad."),
    ("a_te_acc_after_update", "bug", "s01_d2l_classic", '''
def train_epoch(net_fn, train_iter, loss_fn, updater):
    metric = [0.0, 0.0, 0]
    for X, y in train_iter:
        l = loss_fn(net_fn(X), y)
        l.backward()
        updater()
        metric[0] += float(l) * len(y)
        with torch.no_grad():
            metric[1] += accuracy(net_fn(X), y)
        metric[2] += y.numel()
    return metric[0] / metric[2], metric[1] / metric[2]
''', "train_epoch measuring the training accuracy with a second forward pass AFTER each update (loss from "
     "before the update, as required).",
     "The notebook pins the loss to the pre-update value but says nothing explicit about which scores the "
     "accuracy uses; d2l uses the pre-update ones."),
    ("a_relu_maximum_grad_half", "correct", "s01_d2l_classic", '''
def relu(X):
    return torch.maximum(X, torch.zeros_like(X))
''', "relu via torch.maximum: values exact, but at X == 0 exactly the gradient is 0.5 (maximum splits ties), "
     "torch.relu gives 0. (s01 uses torch.max(X, zeros), same; s03 (X+|X|)/2 also 0.5.)",
     "Only matters if a test compares relu's gradient at exactly 0 with torch.relu's."),
    ("a_relu_float_mask_half", "bug", "s11_addmm_mask", '''
def relu(X):
    return (X > 0).float() * X
''', "relu multiplying by a float32 mask: exact for float32/float64 inputs, but float16/bfloat16 inputs "
     "come back as float32 (docstring: same dtype).",
     "Only visible for half-precision inputs, which nothing in the notebook uses."),
]

AMBIGUOUS = []
for _name, _kind, _base, _src, _desc, _amb in _AMBIG:
    _funcs = _split(_src)
    AMBIGUOUS.append({"name": _name, "kind": _kind, "base": _base, "functions": _funcs,
                      "description": _desc, "ambiguity": _amb})
