-- det.aug: operations as values, ds:augment, ds:sample, the preview grid,
-- and the loader's batches independent of the number of workers.
local det = require "det"

describe("det.aug", function()
  it("has a constructor per operation, with defaults and checked options", function()
    for _, name in ipairs{ "hflip", "vflip", "rot90", "affine", "brightness", "contrast", "saturation", "hue",
        "gamma", "greyscale", "noise", "blur", "crop", "expand", "multiscale", "cutout", "mosaic", "mixup" } do
      assert.is_function(det.aug[name], name)
      assert.are.equal(name, det.aug[name]{}.kind)
    end
    local op = det.aug.affine{ degrees = 5, p = 0.25 }
    assert.are.equal(5, op.degrees)
    assert.are.equal(0.25, op.p)
    assert.are.equal("det.aug.affine{ p = 0.25, degrees = 5, translate = 0.1, scale = 0.1, shear = 0, fill = 114 }", tostring(op))
    assert.has_error(function() det.aug.hflip{ q = 1 } end, "det.aug.hflip: unknown option 'q' (expected p)")
    assert.has_error(function() det.aug.contrast{ lower = 2, upper = 1 } end, "det.aug.contrast: lower (2) > upper (1)")
    assert.has_error(function() det.aug.hflip{ p = 2 } end, "det.aug.hflip: p must be in [0, 1], got 2")
  end)

  it("sets, lists and clears a dataset's augmentation", function()
    local ds = det.data.fashion{ images = 8 }
    assert.are.equal(ds, ds:augment{ det.aug.hflip{ p = 1 }, { det.aug.brightness{} } })
    local l = ds:augment()
    assert.are.equal(2, #l)
    assert.are.equal("brightness", l[2].kind)
    ds:augment{}
    assert.are.equal(0, #ds:augment())
  end)

  it("flips boxes with the image (hflip p = 1)", function()
    local ds = det.data.fashion{ images = 4, seed = 2 }
    local plain = ds:sample(1, { augment = false })
    ds:augment{ det.aug.hflip{ p = 1 } }
    local flipped = ds:sample(1)
    for k, b in ipairs(plain.boxes) do
      local f = flipped.boxes[k]
      assert.are.equal(128 - b[3], f[1])
      assert.are.equal(128 - b[1], f[3])
      assert.are.equal(b[2], f[2])
    end
  end)

  it("augments the same way for the same (seed, epoch, index)", function()
    local ds = det.data.fashion{ images = 16, seed = 3 }
    ds:augment(det.aug.yolo())
    local a = ds:sample(5, { seed = 9, epoch = 2 })
    local b = ds:sample(5, { seed = 9, epoch = 2 })
    local c = ds:sample(5, { seed = 9, epoch = 3 })
    assert.are.equal(a.pixels, b.pixels)
    assert.are.same(a.boxes, b.boxes)
    assert.are_not.equal(a.pixels, c.pixels)
  end)

  it("previews samples and writes a PNG grid", function()
    local ds = det.data.fashion{ images = 10 }
    ds:augment(det.aug.ssd())
    local file = os.tmpname() .. ".png"
    local out = det.aug.preview(ds, 6, { file = file, seed = 1 })
    assert.are.equal(6, #out)
    assert.is_number(out[1].width)
    local f = assert(io.open(file, "rb"))
    assert.are.equal("\137PNG", f:read(4))
    f:close()
    os.remove(file)
    local _, err = det.aug.preview(ds, 2, { file = "/nonexistent-dir/grid.png" })
    assert.truthy(err:find("/nonexistent%-dir/grid.png"))
  end)

  it("keeps a loader's dataset alive: no ds:close() to free it under the workers", function()
    -- ds:close() used to free the dataset while the loader's threads read it
    local ds = det.data.fashion{ images = 16, size = 64, seed = 1 }
    assert.is_nil(ds.close)
    local l = ds:loader{ batch = 4, size = 64, workers = 2 }
    ds = nil
    collectgarbage()
    collectgarbage()
    for _ = 1, 6 do assert.are.equal(4, #l:next().indices) end
    l:close()
  end)

  it("loads the same batches with 1 or 2 workers", function()
    local ds = det.data.fashion{ images = 24, seed = 5 }
    ds:augment{ det.aug.mosaic{ p = 0.5 }, det.aug.affine{}, det.aug.hflip{}, det.aug.noise{} }
    ds:sampler(det.sample.shuffle())
    local function batches(workers)
      local l = ds:loader{ batch = 5, size = 64, workers = workers, seed = 3 }
      local out = {}
      for k = 1, 7 do out[k] = l:next() end
      l:close()
      return out
    end
    local one, two = batches(1), batches(2)
    for k = 1, 7 do
      assert.are.same(one[k].indices, two[k].indices)
      assert.are.same(one[k].boxes, two[k].boxes)
      assert.are.equal(one[k].checksum, two[k].checksum)
    end
    assert.are.equal(4, one[5].n)        -- 24 = 4 x 5 + 4
    assert.is_true(one[5].last_in_epoch)
    assert.are.equal(1, one[6].epoch)
  end)
end)
