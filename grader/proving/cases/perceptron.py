"""01_perceptron: the bugs of COURSE.md (and a few more seen in practice), and correct
solutions written differently from ours."""

from grader.proving.variants import Variant

ASSIGNMENT = "01_perceptron"
NOTEBOOK = "perceptron"
# Tests of the whole pipeline on real data (COURSE.md, one bug one deduction): any bug may fail them.
END_TO_END = ("test_blobs",)

VARIANTS = [
    # ------------------------------------------------------------------ bugs
    Variant("step", '''
def step(z):
    return np.where(z >= 0, 1, 0)
''', "step uses >= instead of >", ("test_step",), "use z > 0, not z >= 0"),
    Variant("step", '''
def step(z):
    if z > 0:
        return 1
    return 0
''', "step handles scalars only", ("test_step",), "one number at a time"),
    Variant("step", '''
def step(z):
    return z > 0
''', "step returns booleans", ("test_step",), "booleans"),
    Variant("Perceptron.predict", '''
def predict(self, X):
    return step(X @ self.w)
''', "predict forgets the bias", ("test_predict",), "bias b is missing"),
    Variant("Perceptron.update", '''
def update(self, x, y, lr):
    error = self.predict(x) - y
    self.w = self.w + lr * error * x
    self.b = self.b + lr * error
    return error
''', "update has the sign flipped", ("test_update",), "wrong sign"),
    Variant("Perceptron.update", '''
def update(self, x, y, lr):
    error = y - self.predict(x)
    self.w = self.w + lr * error * x
    return error
''', "update forgets the bias", ("test_update",), "bias is not updated"),
    Variant("Perceptron.update", '''
def update(self, x, y, lr):
    error = y - self.predict(x)
    sign = 1 if y == 1 else -1
    self.w = self.w + lr * sign * x
    self.b = self.b + lr * sign
    return error
''', "update also moves on correct predictions", ("test_update",), "prediction was right"),
    Variant("Perceptron.update", '''
def update(self, x, y, lr):
    error = y - self.predict(x)
    self.w = self.w + error * x
    self.b = self.b + error
    return error
''', "update ignores lr", ("test_update",), "learning rate is ignored"),
    Variant("train_perceptron", '''
def train_perceptron(model, X, y, lr=0.1, epochs=10, shuffle_seed=0):
    rng = np.random.default_rng(shuffle_seed)
    history = []
    for _ in range(epochs):
        mistakes = 0
        for i in rng.permutation(len(X)):
            mistakes += int(model.update(X[i], y[i], lr) != 0)
        history.append(mistakes)
    return history
''', "training never stops early", ("test_train_perceptron",), "stop as soon as"),
    Variant("train_perceptron", '''
def train_perceptron(model, X, y, lr=0.1, epochs=10, shuffle_seed=0):
    rng = np.random.default_rng(shuffle_seed)
    history = []
    mistakes = 0
    for _ in range(epochs):
        for i in rng.permutation(len(X)):
            mistakes += int(model.update(X[i], y[i], lr) != 0)
        history.append(mistakes)
        if mistakes == 0:
            break
    return history
''', "mistake count not reset per epoch", ("test_train_perceptron",), "not reset"),
    Variant("train_perceptron", '''
def train_perceptron(model, X, y, lr=0.1, epochs=10, shuffle_seed=0):
    rng = np.random.default_rng(shuffle_seed)
    history = []
    for _ in range(epochs):
        total_error = 0
        for i in rng.permutation(len(X)):
            total_error += model.update(X[i], y[i], lr)
        history.append(int(abs(total_error)))
        if total_error == 0:
            break
    return history
''', "mistakes counted as the sum of errors", ("test_train_perceptron",), "+1 and −1 cancel"),
    Variant("train_perceptron", '''
def train_perceptron(model, X, y, lr=0.1, epochs=10, shuffle_seed=0):
    history = []
    for _ in range(epochs):
        order = np.random.permutation(len(X))
        mistakes = sum(int(model.update(X[i], y[i], lr) != 0) for i in order)
        history.append(mistakes)
        if mistakes == 0:
            break
    return history
''', "shuffle ignores shuffle_seed", ("test_train_perceptron",), "shuffle_seed"),
    Variant("accuracy", '''
def accuracy(y_pred, y):
    return int(np.sum(y_pred == y))
''', "accuracy returns a count", ("test_accuracy",), "number of samples"),
    Variant("accuracy", '''
def accuracy(y_pred, y):
    return 100 * np.mean(y_pred == y)
''', "accuracy in percent", ("test_accuracy",), "not a percentage"),

    # A cheat: the answer cell also silences the checks it knows the tests use. Test cells
    # import their checks themselves, so the rebinding is undone and gains nothing.
    Variant("step", '''
def step(z):
    return z

expect_close = expect_runs = expect_dtype = lambda *args, **kwargs: None
''', "cheat: answer cell rebinds the checks", ("test_step",), None),

    # ------------------------------------------------------------------ correct, written differently
    Variant("step", '''
def step(z):
    return (z > 0).astype(float)
''', "float step via astype"),
    Variant("step", '''
def step(z):
    return np.heaviside(z, 0.0)
''', "np.heaviside"),
    Variant("step", '''
def step(z):
    z = np.asarray(z)
    out = np.zeros(z.shape, dtype=int)
    for index in np.ndindex(z.shape):
        if z[index] > 0:
            out[index] = 1
    return out
''', "looped step"),
    Variant("Perceptron", '''
class Perceptron:
    def __init__(self, input_dim, seed=0):
        self.w = np.zeros(input_dim)
        self.b = np.float64(0)

    def predict(self, X):
        return (np.dot(X, self.w) + self.b > 0).astype(np.int64)

    def update(self, x, y, lr):
        y_hat = self.predict(x)
        if y_hat == y:
            return 0
        error = y - y_hat
        self.w += lr * error * x
        self.b += lr * error
        return error
''', "zero init, in-place updates, early return when right"),
    Variant("Perceptron", '''
class Perceptron:
    def __init__(self, input_dim, seed=0):
        self.w = np.random.default_rng(seed).uniform(-0.5, 0.5, input_dim)
        self.b = 0.0

    def predict(self, X):
        X = np.atleast_2d(X)
        labels = step(X @ self.w + self.b)
        return labels[0] if labels.shape[0] == 1 else labels

    def update(self, x, y, lr):
        error = float(y) - float(self.predict(x))
        self.w = self.w + lr * error * np.asarray(x, dtype=float)
        self.b = self.b + lr * error
        return error
''', "atleast_2d predict, float errors"),
    Variant("train_perceptron", '''
def train_perceptron(model, X, y, lr=0.1, epochs=10, shuffle_seed=0):
    rng = np.random.default_rng(shuffle_seed)
    order = np.arange(len(X))
    history = []
    epoch = 0
    while epoch < epochs:
        rng.shuffle(order)
        wrong = 0
        for i in order:
            error = y[i] - model.predict(X[i])
            if error != 0:
                model.w = model.w + lr * error * X[i]
                model.b = model.b + lr * error
                wrong += 1
        history.append(wrong)
        epoch += 1
        if wrong == 0:
            break
    return np.array(history)
''', "while loop, rule applied inline, array history"),
    Variant("accuracy", '''
def accuracy(y_pred, y):
    y_pred, y = np.asarray(y_pred).ravel(), np.asarray(y).ravel()
    return np.count_nonzero(y_pred == y) / y.size
''', "count_nonzero / size"),
]
