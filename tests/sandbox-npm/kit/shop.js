// The app of the README's Playwright webServer recipe (its `npm start`): GET /checkout creates a
// charge whose cbUrl is this app and sends the buyer to the hosted payment page with an access
// token; POST /webhooks/qbitpay verifies a delivery (400 if it does not verify); GET /thanks.
const http = require('node:http');
const { QbitPay, verifyWebhook } = require('qbitpay');

const apiKey = process.env.QBITPAY_API_KEY;
const qp = new QbitPay({ apiKey, baseUrl: process.env.QBITPAY_BASE_URL });
const port = Number(process.env.PORT);
const self = `http://127.0.0.1:${port}`;
let orders = 0;

const server = http.createServer(async (req, res) => {
  try {
    if (req.method === 'GET' && req.url === '/checkout') {
      const charge = await qp.charges.create({ amount: 25, currency: 'USD', externalOrderId: `shop-${++orders}`,
        cbUrl: `${self}/webhooks/qbitpay`, redirectUrl: `${self}/thanks` });
      const { accessToken } = await qp.accessToken.create();
      res.writeHead(302, { location: `${charge.paymentPageUrl}&accessToken=${encodeURIComponent(accessToken)}` }).end();
    } else if (req.method === 'POST' && req.url === '/webhooks/qbitpay') {
      let body = '';
      for await (const chunk of req) body += chunk;
      try {
        verifyWebhook(body, req.headers['qbitpay-signature'], apiKey);
      } catch {
        res.writeHead(400).end();
        return;
      }
      res.end('ok');
    } else {
      res.writeHead(200, { 'content-type': 'text/html' }).end(req.url === '/thanks' ? '<h1>Thank you for your order</h1>' : '<h1>Shop</h1>');
    }
  } catch (e) {
    res.writeHead(500).end(String(e.message));
  }
});
server.listen(port, '127.0.0.1');
process.on('SIGTERM', () => server.close(() => process.exit(0)));
