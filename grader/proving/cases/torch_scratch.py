"""03_torch_scratch: the bugs of COURSE.md and the slips students make with tensors and
autograd, and correct solutions written differently from ours."""

from grader.proving.variants import Variant

ASSIGNMENT = "03_torch_scratch"
NOTEBOOK = "torch_scratch"
# Tests of the whole pipeline on real data (COURSE.md, one bug one deduction): any bug may fail them.
END_TO_END = ("test_fashion_accuracy",)

VARIANTS = [
    # ------------------------------------------------------------------ bugs: init_params
    Variant("init_params", '''
def init_params(num_inputs, num_hiddens, num_outputs, device=None):
    W1 = torch.randn(num_inputs, num_hiddens, device=device) * 0.01
    b1 = torch.zeros(num_hiddens, device=device)
    W2 = torch.randn(num_hiddens, num_outputs, device=device) * 0.01
    b2 = torch.zeros(num_outputs, device=device)
    return [W1, b1, W2, b2]
''', "init_params: no requires_grad", ("test_init_params",), "requires_grad=True"),
    Variant("init_params", '''
def init_params(num_inputs, num_hiddens, num_outputs, device=None):
    W1 = torch.randn(num_inputs, num_hiddens, device=device, requires_grad=True) * 0.01
    b1 = torch.zeros(num_hiddens, device=device, requires_grad=True)
    W2 = torch.randn(num_hiddens, num_outputs, device=device, requires_grad=True) * 0.01
    b2 = torch.zeros(num_outputs, device=device, requires_grad=True)
    return [W1, b1, W2, b2]
''', "init_params: scaled after requires_grad, so not a leaf", ("test_init_params",), "not a leaf"),
    Variant("init_params", '''
def init_params(num_inputs, num_hiddens, num_outputs, device=None):
    W1 = torch.randn(num_hiddens, num_inputs, device=device).mul(0.01).requires_grad_()
    b1 = torch.zeros(num_hiddens, device=device, requires_grad=True)
    W2 = torch.randn(num_outputs, num_hiddens, device=device).mul(0.01).requires_grad_()
    b2 = torch.zeros(num_outputs, device=device, requires_grad=True)
    return [W1, b1, W2, b2]
''', "init_params: weights stored (out, in)", ("test_init_params",), "W is transposed"),
    Variant("init_params", '''
def init_params(num_inputs, num_hiddens, num_outputs, device=None):
    W1 = torch.randn(num_inputs, num_hiddens, device=device, requires_grad=True)
    b1 = torch.zeros(num_hiddens, device=device, requires_grad=True)
    W2 = torch.randn(num_hiddens, num_outputs, device=device, requires_grad=True)
    b2 = torch.zeros(num_outputs, device=device, requires_grad=True)
    return [W1, b1, W2, b2]
''', "init_params: standard deviation 1", ("test_init_params",), "standard deviation 1"),
    Variant("init_params", '''
def init_params(num_inputs, num_hiddens, num_outputs, device=None):
    W1 = (torch.rand(num_inputs, num_hiddens, device=device) * 0.01).requires_grad_()
    b1 = torch.zeros(num_hiddens, device=device, requires_grad=True)
    W2 = (torch.rand(num_hiddens, num_outputs, device=device) * 0.01).requires_grad_()
    b2 = torch.zeros(num_outputs, device=device, requires_grad=True)
    return [W1, b1, W2, b2]
''', "init_params: uniform instead of normal", ("test_init_params",), "torch.rand"),
    Variant("init_params", '''
def init_params(num_inputs, num_hiddens, num_outputs, device=None):
    W1 = (torch.randn(num_inputs, num_hiddens) * 0.01).requires_grad_()
    b1 = torch.zeros(num_hiddens, requires_grad=True)
    W2 = (torch.randn(num_hiddens, num_outputs) * 0.01).requires_grad_()
    b2 = torch.zeros(num_outputs, requires_grad=True)
    return [W1, b1, W2, b2]
''', "init_params: ignores device", ("test_init_params",), "ignores its device argument"),
    Variant("init_params", '''
def init_params(num_inputs, num_hiddens, num_outputs, device=None):
    W1 = (torch.randn(num_inputs, num_hiddens, device=device, dtype=torch.float64) * 0.01).requires_grad_()
    b1 = torch.zeros(num_hiddens, device=device, dtype=torch.float64, requires_grad=True)
    W2 = (torch.randn(num_hiddens, num_outputs, device=device, dtype=torch.float64) * 0.01).requires_grad_()
    b2 = torch.zeros(num_outputs, device=device, dtype=torch.float64, requires_grad=True)
    return [W1, b1, W2, b2]
''', "init_params: float64 parameters", ("test_init_params",), "float32"),
    Variant("init_params", '''
def init_params(num_inputs, num_hiddens, num_outputs, device=None):
    W1 = (torch.randn(num_inputs, num_hiddens, device=device) * 0.01).requires_grad_()
    b1 = torch.zeros(1, num_hiddens, device=device, requires_grad=True)
    W2 = (torch.randn(num_hiddens, num_outputs, device=device) * 0.01).requires_grad_()
    b2 = torch.zeros(1, num_outputs, device=device, requires_grad=True)
    return [W1, b1, W2, b2]
''', "init_params: biases of shape (1, n)", ("test_init_params",), "vectors of shape"),
    # ------------------------------------------------------------------ bugs: relu and net
    Variant("relu", '''
def relu(X):
    return torch.relu(X)
''', "relu calls torch.relu", ("test_relu",), "by hand"),
    Variant("relu", '''
def relu(X):
    return X.clamp(min=0)
''', "relu calls clamp", ("test_relu",), "by hand"),
    Variant("relu", '''
def relu(X):
    X[X < 0] = 0
    return X
''', "relu modifies its input in place", ("test_relu",), "in place"),
    Variant("relu", '''
def relu(X):
    return (X > 0).float()
''', "relu returns the step function", ("test_relu",), "step function"),
    Variant("relu", '''
def relu(X):
    return torch.maximum(X, torch.zeros(X.shape))
''', "relu makes its zeros on the CPU", ("test_relu",), "created on the CPU"),
    Variant("relu", '''
def relu(X):
    return torch.tensor(np.maximum(X.detach().cpu().numpy(), 0), dtype=X.dtype, device=X.device)
''', "relu detours through NumPy (no gradient)", ("test_relu",), "cut off from the computation graph"),
    Variant("net", '''
def net(X, params):
    W1, b1, W2, b2 = params
    X = X.reshape(-1, 784)
    return relu(X @ W1 + b1) @ W2 + b2
''', "net flattens to a hard-coded 784", ("test_net",), "fixed size"),
    Variant("net", '''
def net(X, params):
    W1, b1, W2, b2 = params
    X = X.reshape(-1, W1.shape[0])
    return torch.softmax(relu(X @ W1 + b1) @ W2 + b2, dim=1)
''', "net applies softmax", ("test_net",), "softmax applied"),
    Variant("net", '''
def net(X, params):
    W1, b1, W2, b2 = params
    X = X.reshape(-1, W1.shape[0])
    return relu(relu(X @ W1 + b1) @ W2 + b2)
''', "net applies ReLU to the output", ("test_net",), "output scores too"),
    Variant("net", '''
def net(X, params):
    W1, b1, W2, b2 = params
    X = X.reshape(-1, W1.shape[0])
    return (X @ W1 + b1) @ W2 + b2
''', "net forgets the hidden ReLU", ("test_net",), "no ReLU"),
    Variant("net", '''
def net(X, params):
    W1, b1, W2, b2 = params
    X = X.reshape(-1, W1.shape[0])
    return relu(X @ W1) @ W2 + b2
''', "net forgets the hidden bias", ("test_net",), "bias is missing"),
    Variant("net", '''
def net(X, params):
    W1, b1, W2, b2 = params
    X = X.reshape(len(X), -1)
    return relu(X @ W1.T + b1) @ W2.T + b2
''', "net multiplies by W transposed", ("test_net",), "a layer computes X @ W + b"),
    # ------------------------------------------------------------------ bugs: softmax
    Variant("softmax", '''
def softmax(O):
    E = torch.exp(O)
    return E / E.sum(dim=1, keepdim=True)
''', "softmax without max subtraction", ("test_softmax",), "overflows"),
    Variant("softmax", '''
def softmax(O):
    E = torch.exp(O - O.max(dim=0, keepdim=True).values)
    return E / E.sum(dim=0, keepdim=True)
''', "softmax over the wrong dim", ("test_softmax",), "wrong dimension"),
    Variant("softmax", '''
def softmax(O):
    E = torch.exp(O - O.max())
    return E / E.sum(dim=1, keepdim=True)
''', "softmax subtracts the batch's max", ("test_softmax",), "each row needs its own max"),
    Variant("softmax", '''
def softmax(O):
    E = torch.exp(O - O.max(dim=1).values)
    return E / E.sum(dim=1, keepdim=True)
''', "softmax: row max without keepdim", ("test_softmax",), "keepdim"),
    Variant("softmax", '''
def softmax(O):
    E = torch.exp(O - O.max(dim=1, keepdim=True).values)
    return E / E.sum(dim=1)
''', "softmax: row sum without keepdim", ("test_softmax",), "keepdim"),
    Variant("softmax", '''
def softmax(O):
    O -= O.max(dim=1, keepdim=True).values
    E = torch.exp(O)
    return E / E.sum(dim=1, keepdim=True)
''', "softmax shifts its input in place", ("test_softmax",), "in place"),
    # ------------------------------------------------------------------ bugs: cross-entropy
    Variant("cross_entropy", '''
def cross_entropy(y_hat, y):
    return -torch.log(y_hat[range(len(y)), y]).sum()
''', "cross_entropy sums instead of averaging", ("test_cross_entropy",), "summed over the batch"),
    Variant("cross_entropy", '''
def cross_entropy(y_hat, y):
    return -torch.log(y_hat[:, y]).mean()
''', "cross_entropy indexes y_hat[:, y]", ("test_cross_entropy",), "y_hat[:, y]"),
    Variant("cross_entropy", '''
def cross_entropy(y_hat, y):
    return -torch.log(y_hat[range(len(y)), y])
''', "cross_entropy returns the per-sample losses", ("test_cross_entropy",), "mean over the batch"),
    Variant("cross_entropy", '''
def cross_entropy(y_hat, y):
    return -torch.log(y_hat[range(len(y)), y]).mean().item()
''', "cross_entropy returns a Python number", ("test_cross_entropy",), "turned into a number"),
    Variant("cross_entropy", '''
def cross_entropy(y_hat, y):
    return -torch.log(y_hat).mean()
''', "cross_entropy averages over every entry", ("test_cross_entropy",), "every entry"),
    Variant("cross_entropy", '''
def cross_entropy(y_hat, y):
    onehot = torch.zeros(y_hat.shape)
    onehot[range(len(y)), y] = 1
    return -(onehot * torch.log(y_hat)).sum(dim=1).mean()
''', "cross_entropy makes its one-hot on the CPU", ("test_cross_entropy",), "created on the CPU"),
    # ------------------------------------------------------------------ bugs: sgd
    Variant("sgd", '''
def sgd(params, lr):
    with torch.no_grad():
        for p in params:
            p -= lr * p.grad
''', "sgd does not reset the gradients", ("test_sgd",), "accumulate across steps"),
    Variant("sgd", '''
def sgd(params, lr):
    for p in params:
        p -= lr * p.grad
        p.grad.zero_()
''', "sgd updates outside no_grad", ("test_sgd",), "outside torch.no_grad()"),
    Variant("sgd", '''
def sgd(params, lr):
    for i, p in enumerate(params):
        params[i] = (p - lr * p.grad).detach().requires_grad_()
''', "sgd replaces the parameters instead of updating them", ("test_sgd",), "replaced"),
    Variant("sgd", '''
def sgd(params, lr):
    with torch.no_grad():
        for p in params:
            p = p - lr * p.grad
            p.grad = None
''', "sgd rebinds a local name", ("test_sgd",), "rebinds the name"),
    Variant("sgd", '''
def sgd(params, lr):
    with torch.no_grad():
        for p in params:
            p += lr * p.grad
            p.grad.zero_()
''', "sgd ascends the gradient", ("test_sgd",), "adds the gradient"),
    Variant("sgd", '''
def sgd(params, lr):
    with torch.no_grad():
        for p in params:
            p.grad.zero_()
            p -= lr * p.grad
''', "sgd zeroes the gradients before the update", ("test_sgd",), "did not change"),
    # ------------------------------------------------------------------ bugs: accuracy, evaluation
    Variant("accuracy", '''
def accuracy(y_hat, y):
    return (y_hat.argmax(dim=1) == y).float().mean().item()
''', "accuracy returns the fraction", ("test_accuracy",), "returned the fraction"),
    Variant("accuracy", '''
def accuracy(y_hat, y):
    return (y_hat.argmax(dim=1) == y).sum()
''', "accuracy returns a tensor", ("test_accuracy",), ".item()"),
    Variant("accuracy", '''
def accuracy(y_hat, y):
    return (y_hat.argmax(dim=0) == y).sum().item()
''', "accuracy: argmax over dim 0", ("test_accuracy",), "wrong dimension"),
    Variant("evaluate_accuracy", '''
def evaluate_accuracy(net_fn, data_iter):
    accuracies = []
    with torch.no_grad():
        for X, y in data_iter:
            accuracies.append(accuracy(net_fn(X), y) / len(y))
    return sum(accuracies) / len(accuracies)
''', "evaluate_accuracy averages batch accuracies", ("test_evaluate_accuracy",), "without weighting"),
    Variant("evaluate_accuracy", '''
def evaluate_accuracy(net_fn, data_iter):
    correct, total = 0, 0
    for X, y in data_iter:
        correct += accuracy(net_fn(X), y)
        total += len(y)
    return correct / total
''', "evaluate_accuracy without no_grad", ("test_evaluate_accuracy",), "torch.no_grad()"),
    Variant("evaluate_accuracy", '''
def evaluate_accuracy(net_fn, data_iter):
    correct, batches, size = 0, 0, None
    with torch.no_grad():
        for X, y in data_iter:
            correct += accuracy(net_fn(X), y)
            batches += 1
            size = size or len(y)
    return correct / (batches * size)
''', "evaluate_accuracy divides by batches × batch size", ("test_evaluate_accuracy",), "last batch is smaller"),
    Variant("evaluate_accuracy", '''
def evaluate_accuracy(net_fn, data_iter):
    predictions, labels = torch.tensor([], dtype=torch.long), torch.tensor([], dtype=torch.long)
    with torch.no_grad():
        for X, y in data_iter:
            predictions = torch.cat([predictions, net_fn(X).argmax(dim=1)])
            labels = torch.cat([labels, y])
    return (predictions == labels).float().mean().item()
''', "evaluate_accuracy collects predictions in CPU tensors", ("test_evaluate_accuracy",), "created on the CPU"),
    # ------------------------------------------------------------------ bugs: training
    Variant("train_epoch", '''
def train_epoch(net_fn, train_iter, loss_fn, updater):
    losses, accs = [], []
    for X, y in train_iter:
        y_hat = net_fn(X)
        loss = loss_fn(y_hat, y)
        loss.backward()
        updater()
        losses.append(loss.item())
        accs.append(accuracy(y_hat, y) / len(y))
    return sum(losses) / len(losses), sum(accs) / len(accs)
''', "train_epoch averages batches without weights", ("test_train_epoch",), "without weighting by batch size"),
    Variant("train_epoch", '''
def train_epoch(net_fn, train_iter, loss_fn, updater):
    total_loss, correct, seen = 0.0, 0, 0
    for X, y in train_iter:
        y_hat = net_fn(X)
        loss = loss_fn(y_hat, y)
        updater()
        total_loss += loss.item() * len(y)
        correct += accuracy(y_hat, y)
        seen += len(y)
    return total_loss / seen, correct / seen
''', "train_epoch never calls backward", ("test_train_epoch",), "loss.backward() before updater()"),
    Variant("train_epoch", '''
def train_epoch(net_fn, train_iter, loss_fn, updater):
    total_loss, correct, seen = 0.0, 0, 0
    for X, y in train_iter:
        y_hat = net_fn(X)
        loss = loss_fn(y_hat, y)
        loss.backward()
        updater()
        total_loss += loss.item() * len(y)
        correct += accuracy(y_hat, y)
        seen += len(y)
    return total_loss, correct / seen
''', "train_epoch returns the summed loss", ("test_train_epoch",), "not divided by the number of samples"),
    Variant("train_epoch", '''
def train_epoch(net_fn, train_iter, loss_fn, updater):
    total_loss, correct, seen = 0.0, 0, 0
    for X, y in train_iter:
        y_hat = net_fn(X)
        loss = loss_fn(y_hat, y)
        loss.backward()
        total_loss += loss.item() * len(y)
        correct += accuracy(y_hat, y)
        seen += len(y)
    updater()
    return total_loss / seen, correct / seen
''', "train_epoch updates once per epoch", ("test_train_epoch",), "once per batch"),
    Variant("train_epoch", '''
def train_epoch(net_fn, train_iter, loss_fn, updater):
    total_loss, correct, seen = 0.0, 0, 0
    for X, y in train_iter:
        y_hat = net_fn(X)
        loss = loss_fn(y_hat, y)
        loss.backward()
        updater()
        total_loss += loss.item() * len(y)
        correct += accuracy(y_hat, y)
        seen += len(y)
    return total_loss / seen, correct
''', "train_epoch returns the accuracy as a count", ("test_train_epoch",), "is a count"),
    Variant("train", '''
def train(net_fn, train_iter, test_iter, loss_fn, num_epochs, updater):
    history = {"train_loss": [], "train_acc": [], "test_acc": []}
    for _ in tqdm(range(num_epochs)):
        train_loss, train_acc = train_epoch(net_fn, train_iter, loss_fn, updater)
        history["train_loss"].append(train_loss)
        history["train_acc"].append(train_acc)
        history["test_acc"].append(evaluate_accuracy(net_fn, train_iter))
    return history
''', "train measures test accuracy on the training data", ("test_train",), "on the training batches"),
    Variant("train", '''
def train(net_fn, train_iter, test_iter, loss_fn, num_epochs, updater):
    history = {"train_loss": [], "train_acc": [], "test_acc": []}
    for _ in tqdm(range(1, num_epochs)):
        train_loss, train_acc = train_epoch(net_fn, train_iter, loss_fn, updater)
        history["train_loss"].append(train_loss)
        history["train_acc"].append(train_acc)
        history["test_acc"].append(evaluate_accuracy(net_fn, test_iter))
    return history
''', "train runs one epoch too few", ("test_train",), "one per epoch"),
    Variant("train", '''
def train(net_fn, train_iter, test_iter, loss_fn, num_epochs, updater):
    for _ in tqdm(range(num_epochs)):
        train_loss, train_acc = train_epoch(net_fn, train_iter, loss_fn, updater)
    return {"train_loss": [train_loss], "train_acc": [train_acc],
            "test_acc": [evaluate_accuracy(net_fn, test_iter)]}
''', "train keeps only the last epoch", ("test_train",), "one per epoch"),
    # ------------------------------------------------------------------ bugs found by independently written code
    Variant("cross_entropy", '''
def cross_entropy(y_hat, y):
    one_hot = torch.zeros_like(y_hat)
    one_hot[torch.arange(len(y), device=y.device), y] = 1
    return -(one_hot * torch.log(y_hat)).sum(dim=1).mean()
''', "cross_entropy as one-hot times log (nan when a probability is 0)", ("test_cross_entropy",), "0 * log(0)"),
    Variant("cross_entropy", '''
def cross_entropy(y_hat, y):
    return -torch.log10(y_hat[torch.arange(len(y), device=y.device), y]).mean()
''', "cross_entropy with log10", ("test_cross_entropy",), "natural log"),
    Variant("net", '''
def net(X, params):
    W1, b1, W2, b2 = params
    H = relu(X.reshape(-1, W1.shape[0]) @ W1) + b1
    return H @ W2 + b2
''', "net adds b1 after the ReLU", ("test_net",), "after the ReLU"),
    Variant("sgd", '''
def sgd(params, lr):
    with torch.no_grad():
        for p in params:
            p -= lr * p.grad
            p.grad = torch.zeros(p.shape)
''', "sgd resets the gradient with a new float32 CPU tensor", ("test_sgd",), "p.grad.zero_()"),
    Variant("train_epoch", '''
def train_epoch(net_fn, train_iter, loss_fn, updater):
    total_loss, correct, seen = 0.0, 0, 0
    for X, y in train_iter:
        y_hat = net_fn(X)
        loss = loss_fn(y_hat, y)
        loss.backward()
        updater()
        total_loss += loss * len(y)
        correct += accuracy(y_hat, y)
        seen += len(y)
    return total_loss / seen, correct / seen
''', "train_epoch adds up the loss tensors (every graph kept)", ("test_train_epoch",), "attached to the computation graph"),
    Variant("train_epoch", '''
def train_epoch(net_fn, train_iter, loss_fn, updater):
    total_loss, correct, seen = 0.0, 0, 0
    for X, y in train_iter:
        loss = loss_fn(net_fn(X), y)
        loss.backward()
        updater()
        total_loss += loss.item() * len(y)
        with torch.no_grad():
            correct += accuracy(net_fn(X), y)
        seen += len(y)
    return total_loss / seen, correct / seen
''', "train_epoch measures the accuracy after the update", ("test_train_epoch",), "after the update"),
    Variant("train", '''
def train(net_fn, train_iter, test_iter, loss_fn, num_epochs, updater):
    history = {}
    for _ in tqdm(range(num_epochs)):
        history["train_loss"], history["train_acc"] = train_epoch(net_fn, train_iter, loss_fn, updater)
        history["test_acc"] = evaluate_accuracy(net_fn, test_iter)
    return history
''', "train overwrites the history instead of appending", ("test_train",), "append"),
    # ------------------------------------------------------------------ correct alternatives
    Variant("init_params", '''
def init_params(num_inputs, num_hiddens, num_outputs, device=None):
    shapes = [(num_inputs, num_hiddens), (num_hiddens,), (num_hiddens, num_outputs), (num_outputs,)]
    params = []
    for shape in shapes:
        p = torch.normal(0.0, 0.01, size=shape) if len(shape) == 2 else torch.zeros(shape)
        params.append(p.to(device).requires_grad_(True))
    return params
''', "init_params with torch.normal, made on the CPU then moved"),
    Variant("init_params", '''
def init_params(num_inputs, num_hiddens, num_outputs, device=None):
    W1 = torch.empty(num_inputs, num_hiddens, device=device, requires_grad=True)
    W2 = torch.empty(num_hiddens, num_outputs, device=device, requires_grad=True)
    torch.nn.init.normal_(W1, std=0.01)
    torch.nn.init.normal_(W2, std=0.01)
    b1 = torch.nn.Parameter(torch.zeros(num_hiddens, device=device))
    b2 = torch.nn.Parameter(torch.zeros(num_outputs, device=device))
    return W1, b1, W2, b2
''', "init_params with nn.init and nn.Parameter, returned as a tuple"),
    Variant("relu", '''
def relu(X):
    return torch.maximum(X, torch.zeros_like(X))
''', "relu with torch.maximum and zeros_like"),
    Variant("relu", '''
def relu(X):
    return torch.where(X > 0, X, torch.zeros_like(X))
''', "relu with torch.where"),
    Variant("relu", '''
def relu(X):
    return (X + X.abs()) / 2
''', "relu as (X + |X|) / 2"),
    Variant("net", '''
def net(X, params):
    W1, b1, W2, b2 = params
    H = relu(torch.matmul(X.flatten(start_dim=1), W1) + b1)
    return torch.matmul(H, W2) + b2
''', "net with flatten(start_dim=1) and torch.matmul"),
    Variant("net", '''
def net(X, params):
    W1, b1, W2, b2 = params
    X = X.reshape((X.shape[0], -1))
    return torch.addmm(b2, relu(torch.addmm(b1, X, W1)), W2)
''', "net with torch.addmm"),
    Variant("softmax", '''
def softmax(O):
    return torch.exp(O - torch.logsumexp(O, dim=1, keepdim=True))
''', "softmax through logsumexp"),
    Variant("softmax", '''
def softmax(O):
    shifted = O - O.max(dim=-1, keepdim=True)[0].detach()
    numerator = shifted.exp()
    return numerator / numerator.sum(-1, keepdim=True)
''', "softmax with dim=-1 and a detached max"),
    Variant("softmax", '''
def softmax(O):
    m, _ = torch.max(O, 1)
    E = torch.exp(O - m.unsqueeze(1))
    return E / torch.sum(E, 1).unsqueeze(1)
''', "softmax with unsqueeze instead of keepdim"),
    Variant("cross_entropy", '''
def cross_entropy(y_hat, y):
    return -torch.log(y_hat.gather(1, y.unsqueeze(1))).mean()
''', "cross_entropy with gather"),
    Variant("cross_entropy", '''
def cross_entropy(y_hat, y):
    return torch.nn.functional.nll_loss(torch.log(y_hat), y)
''', "cross_entropy as nll_loss of the log"),
    Variant("cross_entropy", '''
def cross_entropy(y_hat, y):
    onehot = torch.nn.functional.one_hot(y, y_hat.shape[1]).to(y_hat.dtype)
    return -(onehot * torch.log(y_hat.clamp_min(1e-12))).sum() / len(y)
''', "cross_entropy with a one-hot on the right device and a clamp"),
    Variant("sgd", '''
def sgd(params, lr):
    with torch.no_grad():
        for p in params:
            p.sub_(lr * p.grad)
            p.grad.zero_()
''', "sgd with sub_ and grad.zero_()"),
    Variant("sgd", '''
def sgd(params, lr):
    for p in params:
        p.data -= lr * p.grad.data
        p.grad.data.zero_()
''', "sgd through .data (no no_grad needed)"),
    Variant("sgd", '''
def sgd(params, lr):
    with torch.no_grad():
        for p in params:
            p.copy_(p - lr * p.grad)
    for p in params:
        p.grad = None
''', "sgd with copy_ and a separate reset loop"),
    Variant("accuracy", '''
def accuracy(y_hat, y):
    if y_hat.ndim > 1 and y_hat.shape[1] > 1:
        y_hat = y_hat.argmax(axis=1)
    cmp = y_hat.type(y.dtype) == y
    return float(cmp.type(y.dtype).sum())
''', "accuracy in d2l's style (a float count)"),
    Variant("evaluate_accuracy", '''
def evaluate_accuracy(net_fn, data_iter):
    metric = [0.0, 0.0]
    for X, y in data_iter:
        with torch.no_grad():
            metric[0] += accuracy(net_fn(X), y)
        metric[1] += y.numel()
    return metric[0] / metric[1]
''', "evaluate_accuracy with no_grad per batch"),
    Variant("evaluate_accuracy", '''
@torch.no_grad()
def evaluate_accuracy(net_fn, data_iter):
    results = [(accuracy(net_fn(X), y), len(y)) for X, y in data_iter]
    return sum(r for r, _ in results) / sum(n for _, n in results)
''', "evaluate_accuracy decorated with @torch.no_grad()"),
    Variant("evaluate_accuracy", '''
def evaluate_accuracy(net_fn, data_iter):
    predictions, labels = [], []
    with torch.no_grad():
        for X, y in data_iter:
            predictions.append(net_fn(X).argmax(dim=1))
            labels.append(y)
    return (torch.cat(predictions) == torch.cat(labels)).double().mean().item()
''', "evaluate_accuracy concatenating predictions on their own device"),
    Variant("train_epoch", '''
def train_epoch(net_fn, train_iter, loss_fn, updater):
    loss_sum = torch.zeros(())
    correct = n = 0
    for X, y in train_iter:
        scores = net_fn(X)
        loss = loss_fn(scores, y)
        loss.mean().backward()
        updater()
        loss_sum += loss.detach().cpu() * y.shape[0]
        correct += int((scores.argmax(1) == y).sum())
        n += y.shape[0]
    return float(loss_sum) / n, correct / n
''', "train_epoch with a tensor accumulator and its own accuracy count"),
    Variant("train", '''
def train(net_fn, train_iter, test_iter, loss_fn, num_epochs, updater):
    records = []
    with tqdm(total=num_epochs) as bar:
        for epoch in range(num_epochs):
            loss, acc = train_epoch(net_fn, train_iter, loss_fn, updater)
            records.append((loss, acc, evaluate_accuracy(net_fn, test_iter)))
            bar.update(1)
    names = ("train_loss", "train_acc", "test_acc")
    return {name: [r[i] for r in records] for i, name in enumerate(names)}
''', "train building the history from records"),
    Variant("cross_entropy", '''
def cross_entropy(y_hat, y):
    mask = torch.nn.functional.one_hot(y, y_hat.shape[1]).bool()
    return -torch.log(y_hat[mask]).mean()      # a boolean mask: its size depends on the values
''', "cross_entropy through a boolean mask (cannot run on the meta device)"),
    Variant("cross_entropy", '''
def cross_entropy(y_hat, y):
    picked = torch.stack([y_hat[i, y[i]] for i in range(len(y))])
    return -torch.log(picked).mean()
''', "cross_entropy with a loop over the samples (reads y[i] on the meta device)"),
    Variant("sgd", '''
def sgd(params, lr):
    for p in params:
        p.data -= lr * p.grad.data              # the old idiom: .data is not recorded
        p.grad.data.zero_()
''', "sgd through .data, without no_grad"),
]
