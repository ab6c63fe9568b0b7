"""02_numpy_mlp: the bugs of COURSE.md (and a few more seen in practice), and correct
solutions written differently from ours."""

from grader.proving.variants import Variant

ASSIGNMENT = "02_numpy_mlp"
NOTEBOOK = "numpy_mlp"
# Tests of the whole pipeline on real data (COURSE.md, one bug one deduction): any bug may fail them.
END_TO_END = ("test_MLP_fit", "test_MLP_accuracy")

VARIANTS = [
    # ------------------------------------------------------------------ bugs: activations
    Variant("relu_grad", '''
def relu_grad(z):
    return (z != 0).astype(float)
''', "relu_grad is 1 for negative z", ("test_relu_grad",), "1 for negative z"),
    Variant("relu_grad", '''
def relu_grad(z):
    return (z >= 0).astype(float)
''', "relu_grad uses z >= 0", ("test_relu_grad",), "not z >= 0"),
    Variant("relu", '''
def relu(z):
    return np.abs(z)
''', "relu returns |z|", ("test_relu",), "negative inputs must become 0"),
    Variant("relu", '''
def relu(z):
    z[z < 0] = 0
    return z
''', "relu modifies its input in place", ("test_relu",), "in place"),
    Variant("sigmoid", '''
def sigmoid(z):
    return 1 / (1 + np.exp(-z))
''', "sigmoid overflows for z = -1000", ("test_sigmoid",), "overflows"),
    Variant("sigmoid", '''
def sigmoid(z):
    return np.where(z >= 0, 1 / (1 + np.exp(-z)), np.exp(z) / (1 + np.exp(z)))
''', "sigmoid with np.where still evaluates the overflowing branch", ("test_sigmoid",), "both of its branches"),
    Variant("sigmoid_grad", '''
def sigmoid_grad(z):
    return z * (1 - z)
''', "sigmoid_grad computed from the activation instead of z", ("test_sigmoid_grad",),
        "computed from σ(z) instead of z"),
    Variant("sigmoid_grad", '''
def sigmoid_grad(z):
    s = sigmoid(sigmoid(z))
    return s * (1 - s)
''', "sigmoid_grad applies sigmoid twice", ("test_sigmoid_grad",), "computed from σ(z) instead of z"),
    Variant("tanh", '''
def tanh(z):
    return (np.exp(z) - np.exp(-z)) / (np.exp(z) + np.exp(-z))
''', "tanh by its exponential formula overflows", ("test_tanh",), "overflows"),
    Variant("tanh_grad", '''
def tanh_grad(z):
    return 1 - z ** 2
''', "tanh_grad computed from the activation instead of z", ("test_tanh_grad",),
        "computed from tanh(z) instead of z"),
    # ------------------------------------------------------------------ bugs: regression network
    Variant("init_params", '''
def init_params(d_in, d_hidden, d_out, std=0.01, seed=0):
    rng = np.random.default_rng(seed)
    return {"W1": rng.normal(0, std, (d_in, d_hidden)), "b1": np.zeros(d_hidden),
            "W2": rng.normal(0, std, (d_hidden, d_out)), "b2": np.zeros(d_out)}
''', "init_params makes transposed weights", ("test_init_params",), "W is transposed"),
    Variant("init_params", '''
def init_params(d_in, d_hidden, d_out, std=0.01, seed=0):
    rng = np.random.default_rng(seed)
    return {"W1": rng.normal(0, 1, (d_hidden, d_in)), "b1": np.zeros(d_hidden),
            "W2": rng.normal(0, 1, (d_out, d_hidden)), "b2": np.zeros(d_out)}
''', "init_params ignores std", ("test_init_params",), "std is ignored"),
    Variant("init_params", '''
def init_params(d_in, d_hidden, d_out, std=0.01, seed=0):
    return {"W1": np.random.normal(0, std, (d_hidden, d_in)), "b1": np.zeros(d_hidden),
            "W2": np.random.normal(0, std, (d_out, d_hidden)), "b2": np.zeros(d_out)}
''', "init_params ignores the seed", ("test_init_params",), "seed is ignored"),
    Variant("forward", '''
def forward(X, params):
    Z1 = X @ params["W1"].T + params["b1"]
    Y_hat = Z1 @ params["W2"].T + params["b2"]
    return Y_hat, {"Z1": Z1, "A1": Z1, "Y_hat": Y_hat}
''', "forward forgets the ReLU", ("test_forward",), "ReLU is not applied"),
    Variant("mse_l2_loss", '''
def mse_l2_loss(Y_hat, Y, params, reg):
    data = 0.5 * np.mean((Y_hat - Y) ** 2)
    return float(data + 0.5 * reg * (np.sum(params["W1"] ** 2) + np.sum(params["W2"] ** 2)))
''', "mse_l2_loss averages over all entries", ("test_mse_l2_loss",), "all N·d_out entries"),
    Variant("mse_l2_loss", '''
def mse_l2_loss(Y_hat, Y, params, reg):
    data = 0.5 / len(Y) * np.sum((Y_hat - Y) ** 2)
    return float(data + 0.5 * reg * sum(np.sum(p ** 2) for p in params.values()))
''', "mse_l2_loss penalises the biases", ("test_mse_l2_loss",), "biases are penalised"),
    Variant("backward", '''
def backward(X, Y, params, cache, reg):
    dY = cache["Y_hat"] - Y
    dW2 = dY.T @ cache["A1"] + reg * params["W2"]
    db2 = dY.sum(axis=0)
    dZ1 = (dY @ params["W2"]) * relu_grad(cache["Z1"])
    dW1 = dZ1.T @ X + reg * params["W1"]
    db1 = dZ1.sum(axis=0)
    return {"W1": dW1, "b1": db1, "W2": dW2, "b2": db2}
''', "backward forgets the 1/N", ("test_backward",), "not divided by N"),
    Variant("backward", '''
def backward(X, Y, params, cache, reg):
    N = X.shape[0]
    dY = (cache["Y_hat"] - Y) / N
    dW2 = dY.T @ cache["A1"]
    db2 = dY.sum(axis=0)
    dZ1 = (dY @ params["W2"]) * relu_grad(cache["Z1"])
    dW1 = dZ1.T @ X
    db1 = dZ1.sum(axis=0)
    return {"W1": dW1, "b1": db1, "W2": dW2, "b2": db2}
''', "backward forgets the regulariser", ("test_backward",), "L2 term reg·W is missing"),
    Variant("backward", '''
def backward(X, Y, params, cache, reg):
    N = X.shape[0]
    dY = (cache["Y_hat"] - Y) / N
    dW2 = dY.T @ cache["A1"] + reg * params["W2"]
    db2 = dY.sum(axis=0) + reg * params["b2"]
    dZ1 = (dY @ params["W2"]) * relu_grad(cache["Z1"])
    dW1 = dZ1.T @ X + reg * params["W1"]
    db1 = dZ1.sum(axis=0) + reg * params["b1"]
    return {"W1": dW1, "b1": db1, "W2": dW2, "b2": db2}
''', "backward regularises the biases", ("test_backward",), "biases got the L2 term"),
    Variant("backward", '''
def backward(X, Y, params, cache, reg):
    N = X.shape[0]
    dY = (cache["Y_hat"] - Y) / N
    dW2 = cache["A1"].T @ dY + reg * params["W2"].T
    db2 = dY.sum(axis=0)
    dZ1 = (dY @ params["W2"]) * relu_grad(cache["Z1"])
    dW1 = X.T @ dZ1 + reg * params["W1"].T
    db1 = dZ1.sum(axis=0)
    return {"W1": dW1, "b1": db1, "W2": dW2, "b2": db2}
''', "backward returns transposed weight gradients", ("test_backward",), "transposed"),
    Variant("backward", '''
def backward(X, Y, params, cache, reg):
    N = X.shape[0]
    dY = (cache["Y_hat"] - Y) / N
    dW2 = dY.T @ cache["A1"] + reg * params["W2"]
    db2 = dY.sum(axis=0)
    dA1 = dY @ params["W2"]
    dZ1 = dA1 * relu_grad(dA1)
    dW1 = dZ1.T @ X + reg * params["W1"]
    db1 = dZ1.sum(axis=0)
    return {"W1": dW1, "b1": db1, "W2": dW2, "b2": db2}
''', "backward takes the ReLU mask from the gradient", ("test_backward",), "wrong tensor"),
    Variant("backward", '''
def backward(X, Y, params, cache, reg):
    N = X.shape[0]
    dY = (cache["Y_hat"] - Y) / N * relu_grad(cache["Y_hat"])
    dW2 = dY.T @ cache["A1"] + reg * params["W2"]
    db2 = dY.sum(axis=0)
    dZ1 = (dY @ params["W2"]) * relu_grad(cache["Z1"])
    dW1 = dZ1.T @ X + reg * params["W1"]
    db1 = dZ1.sum(axis=0)
    return {"W1": dW1, "b1": db1, "W2": dW2, "b2": db2}
''', "backward masks the linear output layer", ("test_backward",), "wrong layer"),
    Variant("backward", '''
def backward(X, Y, params, cache, reg):
    N = X.shape[0]
    dY = (cache["Y_hat"] - Y) / N
    dW2 = dY.T @ cache["A1"] + reg * params["W2"]
    db2 = dY.sum(axis=0)
    dZ1 = dY @ params["W2"]
    dW1 = dZ1.T @ X + reg * params["W1"]
    db1 = dZ1.sum(axis=0)
    return {"W1": dW1, "b1": db1, "W2": dW2, "b2": db2}
''', "backward forgets the ReLU derivative", ("test_backward",), "ReLU derivative is missing"),
    Variant("backward", '''
def backward(X, Y, params, cache, reg):
    N = X.shape[0]
    dY = (cache["Y_hat"] - Y) / N
    dW2 = dY.T @ cache["A1"] + reg * params["W2"]
    db2 = dY
    dZ1 = (dY @ params["W2"]) * relu_grad(cache["Z1"])
    dW1 = dZ1.T @ X + reg * params["W1"]
    db1 = dZ1
    return {"W1": dW1, "b1": db1, "W2": dW2, "b2": db2}
''', "backward does not sum the bias gradient over the batch", ("test_backward",),
        "not summed over the batch"),
    # ------------------------------------------------------------------ bugs: numerical gradient
    Variant("numerical_gradient", '''
def numerical_gradient(f, x, h=1e-5):
    grad = np.zeros(x.shape)
    fx = f(x)
    for index in np.ndindex(x.shape):
        old = x[index]
        x[index] = old + h
        grad[index] = (f(x) - fx) / h
        x[index] = old
    return grad
''', "numerical_gradient uses forward differences", ("test_numerical_gradient",), "forward differences"),
    Variant("numerical_gradient", '''
def numerical_gradient(f, x, h=1e-5):
    grad = np.zeros(x.shape)
    for index in np.ndindex(x.shape):
        x[index] += h
        f_plus = f(x)
        x[index] -= 2 * h
        f_minus = f(x)
        grad[index] = (f_plus - f_minus) / (2 * h)
    return grad
''', "numerical_gradient leaves x modified", ("test_numerical_gradient",), "left modified"),
    # ------------------------------------------------------------------ bugs: gradient check
    Variant("gradient_check", '''
def gradient_check(X, Y, params, reg, h=1e-5):
    _, cache = forward(X, params)
    analytic = backward(X, Y, params, cache, reg)
    errors = {}
    for name in params:
        def loss_of(value, name=name):
            changed = {**params, name: value}
            return mse_l2_loss(forward(X, changed)[0], Y, changed, 0.0)
        errors[name] = relative_error(analytic[name], numerical_gradient(loss_of, params[name].copy(), h))
    return errors
''', "gradient_check's loss leaves out the L2 penalty", ("test_gradient_check",), "leaves out the L2 penalty"),
    Variant("gradient_check", '''
def gradient_check(X, Y, params, reg, h=1e-5):
    _, cache = forward(X, params)
    analytic = backward(X, Y, params, cache, reg)
    errors = {}
    for name in params:
        def loss_of(value, name=name):
            changed = {**params, name: value}
            return mse_l2_loss(forward(X, changed)[0], Y, changed, reg)
        numeric = numerical_gradient(loss_of, params[name].copy(), h)
        errors[name] = np.linalg.norm(analytic[name] - numeric)
    return errors
''', "gradient_check reports an absolute error", ("test_gradient_check",), "not relative"),
    Variant("gradient_check", '''
def gradient_check(X, Y, params, reg, h=1e-5):
    _, cache = forward(X, params)
    analytic = backward(X, Y, params, cache, reg)
    errors = {}
    for name in params:
        def loss_of(value, name=name):
            changed = {**params, name: value}
            return mse_l2_loss(forward(X, changed)[0], Y, changed, reg)
        errors[name] = relative_error(analytic[name], numerical_gradient(loss_of, params[name].copy()))
    return errors
''', "gradient_check does not pass h on", ("test_gradient_check",), "h is not passed on"),
    # ------------------------------------------------------------------ bugs: classification
    Variant("softmax", '''
def softmax(Z):
    E = np.exp(Z)
    return E / E.sum(axis=1, keepdims=True)
''', "softmax without max-subtraction", ("test_softmax",), "subtract each row's max"),
    Variant("softmax", '''
def softmax(Z):
    E = np.exp(Z - Z.max())
    return E / E.sum(axis=1, keepdims=True)
''', "softmax subtracts the global max", ("test_softmax",), "each row's max"),
    Variant("softmax", '''
def softmax(Z):
    E = np.exp(Z - Z.max(axis=0, keepdims=True))
    return E / E.sum(axis=0, keepdims=True)
''', "softmax normalises over the wrong axis", ("test_softmax",), "wrong axis"),
    Variant("cross_entropy", '''
def cross_entropy(P, y):
    return float(-np.sum(np.log(P[np.arange(len(y)), y])))
''', "cross_entropy sums instead of averaging", ("test_cross_entropy",), "take the mean"),
    Variant("cross_entropy", '''
def cross_entropy(P, y):
    return float(-np.mean(np.log(P[:, y])))
''', "cross_entropy picks whole columns", ("test_cross_entropy",), "whole columns"),
    Variant("softmax_cross_entropy_backward", '''
def softmax_cross_entropy_backward(Z, y):
    P = softmax(Z)
    P[np.arange(len(y)), y] -= 1
    return P
''', "softmax_cross_entropy_backward forgets 1/N", ("test_softmax_cross_entropy_backward",),
        "not divided by N"),
    Variant("softmax_cross_entropy_backward", '''
def softmax_cross_entropy_backward(Z, y):
    P = softmax(Z)
    P[:, y] -= 1
    return P / len(y)
''', "softmax_cross_entropy_backward subtracts 1 from whole columns", ("test_softmax_cross_entropy_backward",),
        "one-hot matrix marks the wrong classes"),
    Variant("softmax_cross_entropy_backward", '''
def softmax_cross_entropy_backward(Z, y):
    onehot = np.eye(y.max() + 1)[y]
    return (softmax(Z) - onehot) / len(y)
''', "softmax_cross_entropy_backward one-hot with y.max()+1 classes", ("test_softmax_cross_entropy_backward",),
        "one-hot matrix has the wrong number of columns"),
    # ------------------------------------------------------------------ bugs: MLP
    Variant("MLP.backward", '''
def backward(self, y):
    n_layers = len(self.layer_dims) - 1
    Z = self.cache[f"Z{n_layers}"]
    loss = cross_entropy(softmax(Z), y)
    dZ = softmax_cross_entropy_backward(Z, y)
    for l in range(n_layers, 0, -1):
        self.grads[f"W{l}"] = dZ.T @ self.cache[f"A{l - 1}"]
        self.grads[f"b{l}"] = dZ.sum(axis=0)
        if l > 1:
            dZ = (dZ @ self.params[f"W{l}"]) * self.f_grad(self.cache[f"A{l - 1}"])
    return loss
''', "MLP.backward evaluates the activation's derivative at the activation", ("test_MLP_backward",),
        "evaluated at the activation A = f(Z)"),
    Variant("MLP.backward", '''
def backward(self, y):
    n_layers = len(self.layer_dims) - 1
    Z = self.cache[f"Z{n_layers}"]
    loss = cross_entropy(softmax(Z), y)
    dZ = softmax_cross_entropy_backward(Z, y) * len(y)
    for l in range(n_layers, 0, -1):
        self.grads[f"W{l}"] = dZ.T @ self.cache[f"A{l - 1}"]
        self.grads[f"b{l}"] = dZ.sum(axis=0)
        if l > 1:
            dZ = (dZ @ self.params[f"W{l}"]) * self.f_grad(self.cache[f"Z{l - 1}"])
    return loss
''', "MLP.backward gradients N times too large", ("test_MLP_backward",), "N times too large"),
    Variant("MLP.forward", '''
def forward(self, X):
    n_layers = len(self.layer_dims) - 1
    A, self.cache = X, {"A0": X}
    for l in range(1, n_layers + 1):
        Z = A @ self.params[f"W{l}"].T + self.params[f"b{l}"]
        self.cache[f"Z{l}"] = Z
        A = self.f(Z)
        self.cache[f"A{l}"] = A
    return A
''', "MLP.forward applies the activation to the output layer too", ("test_MLP_forward",),
        "applied to the output layer too"),
    Variant("MLP.step", '''
def step(self):
    for name, grad in self.grads.items():
        self.params[name] += self.lr * grad
''', "MLP.step has the sign flipped", ("test_MLP_step",), "subtracts lr · gradient"),
    Variant("MLP.step", '''
def step(self):
    for name, grad in self.grads.items():
        self.params[name] -= grad
''', "MLP.step ignores lr", ("test_MLP_step",), "ignores the learning rate"),
    Variant("MLP.fit", '''
def fit(self, X, y, epochs, batch_size, validation_data=None):
    history = {"loss": [], "acc": []}
    for epoch in range(epochs):
        X = X[self.rng.permutation(len(X))]
        y = y[self.rng.permutation(len(y))]
        total_loss, correct = 0.0, 0
        for start in range(0, len(X), batch_size):
            X_batch, y_batch = X[start:start + batch_size], y[start:start + batch_size]
            scores = self.forward(X_batch)
            total_loss += self.backward(y_batch) * len(y_batch)
            correct += int(np.sum(np.argmax(scores, axis=1) == y_batch))
            self.step()
        history["loss"].append(total_loss / len(X))
        history["acc"].append(correct / len(X))
    return history
''', "MLP.fit shuffles X and y with different permutations", ("test_MLP_fit",), "same permutation"),
    # ------------------------------------------------------------------ correct alternatives
    Variant("relu", '''
def relu(z):
    return np.where(z > 0, z, 0.0)
''', "relu with np.where"),
    Variant("relu_grad", '''
def relu_grad(z):
    return z > 0
''', "relu_grad returning booleans"),
    Variant("sigmoid", '''
def sigmoid(z):
    return 0.5 * (1 + np.tanh(0.5 * z))
''', "sigmoid through tanh"),
    Variant("tanh", '''
def tanh(z):
    return 2 * sigmoid(2 * z) - 1
''', "tanh through the stable sigmoid"),
    Variant("init_params", '''
def init_params(d_in, d_hidden, d_out, std=0.01, seed=0):
    rs = np.random.RandomState(seed)
    W2 = std * rs.randn(d_out, d_hidden).astype(np.float32)
    W1 = std * rs.randn(d_hidden, d_in).astype(np.float32)
    return {"W1": W1, "b1": np.zeros(d_hidden, np.float32), "W2": W2, "b2": np.zeros(d_out, np.float32)}
''', "init_params with RandomState, another draw order and float32"),
    Variant("mse_l2_loss", '''
def mse_l2_loss(Y_hat, Y, params, reg):
    N = len(Y)
    loss = 0.0
    for i in range(N):
        diff = Y_hat[i] - Y[i]
        loss += 0.5 * diff @ diff / N
    for name in ("W1", "W2"):
        loss += 0.5 * reg * np.linalg.norm(params[name]) ** 2
    return loss
''', "mse_l2_loss with a loop over samples and np.linalg.norm"),
    Variant("backward", '''
def backward(X, Y, params, cache, reg):
    N = len(X)
    Y_hat, A1 = forward(X, params)[0], cache["A1"]
    delta2 = (Y_hat - Y) / N
    delta1 = np.where(A1 > 0, delta2 @ params["W2"], 0.0)
    return {"W2": np.einsum("nk,nj->kj", delta2, A1) + reg * params["W2"], "b2": delta2.sum(0),
            "W1": np.einsum("nj,ni->ji", delta1, X) + reg * params["W1"], "b1": delta1.sum(0)}
''', "backward with einsum, the mask from A1 and a recomputed forward"),
    Variant("numerical_gradient", '''
def numerical_gradient(f, x, h=1e-5):
    grad = np.empty(x.shape)
    flat = x.reshape(-1).astype(np.float64)
    for i in range(flat.size):
        plus, minus = flat.copy(), flat.copy()
        plus[i] += h
        minus[i] -= h
        grad.flat[i] = (f(plus.reshape(x.shape)) - f(minus.reshape(x.shape))) / (2 * h)
    return grad
''', "numerical_gradient on copies, never touching x"),
    Variant("gradient_check", '''
def gradient_check(X, Y, params, reg, h=1e-5):
    errors = {}
    for name in ("W1", "b1", "W2", "b2"):
        grads = backward(X, Y, params, forward(X, params)[1], reg)
        trial = {key: value.copy() for key, value in params.items()}

        def loss_of(value):
            trial[name] = value
            return mse_l2_loss(forward(X, trial)[0], Y, trial, reg)

        numeric = numerical_gradient(loss_of, trial[name].copy(), h)
        difference = np.sqrt(np.sum((grads[name] - numeric) ** 2))
        errors[name] = difference / (np.sqrt(np.sum(grads[name] ** 2)) + np.sqrt(np.sum(numeric ** 2)))
    return errors
''', "gradient_check on copied parameters, with the norms written out"),
    Variant("softmax", '''
def softmax(Z):
    m = Z.max(axis=1, keepdims=True)
    log_sum = m + np.log(np.sum(np.exp(Z - m), axis=1, keepdims=True))
    return np.exp(Z - log_sum)
''', "softmax through logsumexp"),
    Variant("cross_entropy", '''
def cross_entropy(P, y):
    picked = np.take_along_axis(P, np.asarray(y).reshape(-1, 1).astype(np.int64), axis=1)
    return float(-np.log(np.clip(picked, 1e-12, None)).mean())
''', "cross_entropy with take_along_axis and clipping"),
    Variant("MLP.__init__", '''
def __init__(self, layer_dims, activation="relu", lr=0.1, seed=0):
    self.layer_dims = tuple(layer_dims)
    self.activation, self.lr = activation, lr
    self.f, self.f_grad = {"relu": (relu, relu_grad), "sigmoid": (sigmoid, sigmoid_grad),
                           "tanh": (tanh, tanh_grad)}[activation]
    self.rng = np.random.default_rng(seed)
    self.params, self.grads = {}, {}
    for l in range(1, len(self.layer_dims)):
        fan_in, fan_out = self.layer_dims[l - 1], self.layer_dims[l]
        limit = np.sqrt(6 / (fan_in + fan_out))
        self.params[f"W{l}"] = self.rng.uniform(-limit, limit, size=(fan_out, fan_in))
        self.params[f"b{l}"] = np.zeros(fan_out)
''', "MLP with float64 Glorot-uniform initialisation"),
    Variant("MLP.fit", '''
def fit(self, X, y, epochs, batch_size, validation_data=None):
    from utils.data import ArrayLoader
    loader = ArrayLoader(X, y, batch_size, shuffle=True, seed=self.rng)
    history = {"loss": [], "acc": [], "val_acc": []}
    for epoch in range(epochs):
        losses, hits = [], 0
        for X_batch, y_batch in loader:
            scores = self.forward(X_batch)
            losses.append(self.backward(y_batch) * len(y_batch))
            hits += np.count_nonzero(scores.argmax(axis=1) == y_batch)
            self.step()
        history["loss"].append(sum(losses) / len(X))
        history["acc"].append(hits / len(X))
        if validation_data is not None:
            history["val_acc"].append(np.mean(self.predict(validation_data[0]) == validation_data[1]))
    if validation_data is None:
        del history["val_acc"]
    return history
''', "MLP.fit with utils.data.ArrayLoader"),
]
