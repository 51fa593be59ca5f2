import numpy as np

from core.activations import ReLU
from core.layers import Activation, Dense
from core.losses import MSE
from core.network import Network
from core.optimizers import SGD


def test_one_sgd_step_by_hand():
    # One SGD step on a 2-2-1 relu network, every number worked out by hand.
    hidden = Dense("layers.0", np.array([[0.1, -0.2], [0.3, 0.4]]), np.zeros(2))
    output = Dense("layers.1", np.array([[0.5], [-0.5]]), np.array([0.1]))
    network = Network([hidden, Activation("layers.0.relu", ReLU()), output])
    loss = MSE()
    optimizer = SGD(network.params(), network.grads(), lr=0.1)
    x, y = np.array([[1.0, 2.0]]), np.array([[1.0]])

    # forward: z1 = [1*0.1 + 2*0.3, 1*-0.2 + 2*0.4] = [0.7, 0.6], relu keeps both
    #          z2 = 0.7*0.5 + 0.6*-0.5 + 0.1 = 0.15; loss = (0.15 - 1)^2 = 0.7225
    scores = network.forward(x, training=True)
    np.testing.assert_allclose(scores, [[0.15]])
    np.testing.assert_allclose(loss.forward(scores, y), 0.7225)

    # backward: dL/dz2 = 2 * (0.15 - 1) = -1.7
    #           grad W2 = [0.7, 0.6]^T * -1.7 = [[-1.19], [-1.02]], grad b2 = -1.7
    #           delta1 = -1.7 * [0.5, -0.5] = [-0.85, 0.85] (both units active)
    #           grad W1 = [1, 2]^T [-0.85, 0.85] = [[-0.85, 0.85], [-1.7, 1.7]]
    network.backward(loss.backward())
    np.testing.assert_allclose(output.grad_weight, [[-1.19], [-1.02]])
    np.testing.assert_allclose(output.grad_bias, [-1.7])
    np.testing.assert_allclose(hidden.grad_weight, [[-0.85, 0.85], [-1.7, 1.7]])
    np.testing.assert_allclose(hidden.grad_bias, [-0.85, 0.85])

    # step, lr 0.1: W -= 0.1 * grad
    optimizer.step()
    np.testing.assert_allclose(output.weight, [[0.619], [-0.398]], atol=1e-12)
    np.testing.assert_allclose(output.bias, [0.27], atol=1e-12)
    np.testing.assert_allclose(
        hidden.weight, [[0.185, -0.285], [0.47, 0.23]], atol=1e-12
    )
    np.testing.assert_allclose(hidden.bias, [0.085, -0.085], atol=1e-12)
